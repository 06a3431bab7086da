// cytoscape-edgehandles' browser build takes lodash's memoize and throttle from the global
// `_`. These two small equivalents stand in for lodash; load this classic script before it.
(function () {
  "use strict";
  function memoize(fn, resolver) {
    const cache = new Map();
    const memoized = function (...args) {
      const key = resolver ? resolver.apply(this, args) : args[0];
      if (!cache.has(key)) cache.set(key, fn.apply(this, args));
      return cache.get(key);
    };
    memoized.cache = cache;
    return memoized;
  }
  // Leading and trailing calls, at most one per `wait` milliseconds.
  function throttle(fn, wait) {
    let last = 0;
    let timer = null;
    let pending = null;
    return function (...args) {
      const now = Date.now();
      const remaining = wait - (now - last);
      if (remaining <= 0) {
        clearTimeout(timer);
        timer = null;
        last = now;
        return fn.apply(this, args);
      }
      pending = [this, args];
      if (!timer) {
        timer = setTimeout(() => {
          last = Date.now();
          timer = null;
          fn.apply(pending[0], pending[1]);
        }, remaining);
      }
      return undefined;
    };
  }
  window._ = Object.assign(window._ || {}, { memoize, throttle });
})();
