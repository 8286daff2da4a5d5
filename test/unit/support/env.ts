/** For modules that read the environment once, at load: load them afresh under a given environment. */

const setEnv = (env: Record<string, string | undefined>) => {
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
};

/**
 * A fresh copy of a module (its load-time code run again, as `jest.isolateModules` gives it), with
 * the given variables set (undefined: unset) while it loads. Only those keys are put back after,
 * on the process's own env object.
 */
export function loadFreshWithEnv<T>(env: Record<string, string | undefined>, load: () => T): T {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  setEnv(env);
  try {
    let mod: T | undefined;
    jest.isolateModules(() => {
      mod = load();
    });
    return mod as T;
  } finally {
    setEnv(saved);
  }
}
