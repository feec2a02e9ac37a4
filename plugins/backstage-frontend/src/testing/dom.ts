// A DOM for React in Node's test runner (happy-dom: supports Node 20, unlike jsdom 27+). Imported before
// React, MUI or Backstage load, since MUI's styles look for `document` when first imported.
import { register } from 'node:module';
import { GlobalRegistrator } from '@happy-dom/global-registrator';

register('./asset-hooks.mjs', import.meta.url);
GlobalRegistrator.register({ url: 'http://localhost/', width: 1280, height: 900 });
(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;
