// The browser entry of the app shell (dev/App.tsx), bundled by dev/shell.ts.
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
createRoot(root).render(<App />);
