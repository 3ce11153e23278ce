// The stylesheet, in cascade order (esbuild bundles these into one app.css).
import './styles/base.css';
import './styles/controls.css';
import './styles/lists.css';
import './styles/cell.css';
import { render } from 'preact';
import { App } from './App.js';

const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(<App />, root);
}
