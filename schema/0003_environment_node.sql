-- Which WebDriver node ran an environment's browser (a Selenium Grid node's URI, or the
-- endpoint of a lone remote WebDriver server); NULL for browsers on local drivers.
ALTER TABLE environments ADD COLUMN webdriver_node VARCHAR;
