import './styles.css';
import { render } from 'preact';
import { App } from './App.js';

const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(<App />, root);
}
