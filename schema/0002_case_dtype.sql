-- Cases were all stored as 'f32'. From now on `dtype` is the weights' type a case ran with;
-- earlier int8 cases (the int8 model file, or a backend that quantizes at load) are corrected.
UPDATE cases SET dtype = 'int8'
WHERE kernel = 'minilm-int8'
   OR EXISTS (SELECT 1 FROM environments e WHERE e.run_id = cases.run_id AND e.env_id = cases.env_id AND e.backend LIKE '%-int8');
