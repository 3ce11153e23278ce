import { useEffect, useRef, useState } from 'preact/hooks';
import { setToken, token } from './auth.js';

/** Asks for an API token when the API answered 401; the token is kept in this browser only. */
export function TokenDialog() {
  const ref = useRef<HTMLDialogElement>(null);
  const [value, setValue] = useState('');
  const hadToken = token() !== null;
  useEffect(() => {
    if (ref.current && !ref.current.open) ref.current.showModal();
  }, []);
  return (
    <dialog ref={ref} class="dialog" aria-labelledby="token-title" onCancel={(e) => e.preventDefault()}>
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          if (value.trim()) setToken(value);
        }}
      >
        <h2 id="token-title">{hadToken ? 'That token was refused' : 'This Hive needs an API token'}</h2>
        <div class="dialog-body">
          <p>
            Paste a token (it looks like <code>hive_…</code>). An administrator creates one with{' '}
            <code>hive tokens create --name you --role operator</code>. It is kept in this browser and sent as{' '}
            <code>Authorization: Bearer</code>.
          </p>
          <label class="field">
            <span>API token</span>
            <input
              type="password"
              autoComplete="off"
              spellcheck={false}
              required
              value={value}
              onInput={(e) => setValue(e.currentTarget.value)}
            />
          </label>
        </div>
        <div class="dialog-actions">
          <button type="submit" class="primary">
            Use this token
          </button>
        </div>
      </form>
    </dialog>
  );
}
