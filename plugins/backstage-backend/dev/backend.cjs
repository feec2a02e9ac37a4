'use strict';
// A stock Backstage backend (new backend system) as ../shared/anchors/backstage/backend.js runs it, the
// catalogue only, plus this plugin as a Backstage app installs it: the built dist/ (npm run build).
//   node dev/backend.cjs --config <app-config.yaml>
const path = require('node:path');
const { createBackend } = require('@backstage/backend-defaults');

const backend = createBackend();
backend.add(require('@backstage/plugin-catalog-backend'));
backend.add(require(path.resolve(__dirname, '..', 'dist')));
backend.start();
