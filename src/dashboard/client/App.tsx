import { useEffect, useState } from 'preact/hooks';
import { onAuthChange, setToken, token, tokenNeeded } from './auth.js';
import { CellList } from './CellList.js';
import { CellPage } from './CellPage.js';
import { useRoute } from './hooks.js';
import { NewCell } from './NewCell.js';
import { TokenDialog } from './TokenDialog.js';

export function App() {
  const route = useRoute();
  const [needsToken, setNeedsToken] = useState(tokenNeeded());
  // A new token re-mounts the page, so everything is read again with it.
  const [epoch, setEpoch] = useState(0);
  useEffect(
    () =>
      onAuthChange(() => {
        setNeedsToken(tokenNeeded());
        if (!tokenNeeded()) setEpoch((n) => n + 1);
      }),
    [],
  );
  useEffect(() => {
    window.scrollTo(0, 0);
  }, [route]);

  const cell = /^\/cells\/([a-z0-9]+)$/.exec(route)?.[1];
  const page = cell ? (
    <CellPage id={cell} key={`${cell}:${epoch}`} />
  ) : route === '/new' ? (
    <NewCell key={epoch} />
  ) : (
    <CellList key={epoch} />
  );
  const section = cell ? 'cell' : route === '/new' ? 'new' : 'cells';

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <a class="brand" href="#/">
          <img src="/dashboard/icon.svg" alt="" width="22" height="22" />
          Hive cells
        </a>
        <nav aria-label="Main">
          <a href="#/" aria-current={section === 'cells' ? 'page' : undefined}>
            Cells
          </a>
          <a href="#/new" class="nav-new" aria-current={section === 'new' ? 'page' : undefined}>
            New cell
          </a>
          <a href="/docs" target="_blank" rel="noreferrer">
            API
          </a>
          {token() && (
            <button
              type="button"
              class="ghost small"
              onClick={() => setToken(null)}
              title="Forget the API token"
            >
              Sign out
            </button>
          )}
        </nav>
      </header>
      <main id="main">{page}</main>
      {needsToken && <TokenDialog />}
    </>
  );
}
