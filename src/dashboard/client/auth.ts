// The API token the person gave, kept in this browser, and whether the API asked for one.

const KEY = 'hive.token';
type Listener = () => void;
const listeners = new Set<Listener>();
let needed = false;

export const token = (): string | null => {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null;
  }
};

/** Headers carrying the token, when there is one. */
export const authHeaders = (): Record<string, string> => {
  const t = token();
  return t ? { authorization: `Bearer ${t}` } : {};
};

export const tokenNeeded = () => needed;

/** The API answered 401: the page asks for a token (again, if the one kept was refused). */
export function requireToken() {
  if (needed) return;
  needed = true;
  for (const l of listeners) l();
}

export function setToken(value: string | null) {
  if (value) localStorage.setItem(KEY, value.trim());
  else localStorage.removeItem(KEY);
  needed = false;
  for (const l of listeners) l();
}

/** Called when the token or the need for one changes. */
export function onAuthChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
