// React 18's UMD build (pinned, served from /vendor/react/) as the ES module `react` (the
// runner page's import map points here), so `ipfs-accelerate/react` runs on the real React
// without a bundler. The UMD build sets `self.React` when run as a module.
await import("/vendor/react/umd/react.production.min.js");
const React = self.React;
export default React;
export const { useCallback, useEffect, useMemo, useRef, useState, createElement } = React;
