import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Workspace } from '../workspace.ts';
import { kubernetesValidate } from './kubernetes-validate.ts';
import { makeContext } from './testing.ts';

const configMap = (name: string, extra = '') => `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}
data:
  LOG_LEVEL: info
${extra}`;

describe('kubernetes:validate', () => {
  it('reports each manifest of the directory valid, and fails naming the file and field of one that is not', async () => {
    const ws = new Workspace();
    ws.write('k8s/config.yaml', configMap('ledger'));
    ws.write('k8s/notes.txt', 'not a manifest');
    const ctx = makeContext({}, { workspace: ws });
    await kubernetesValidate.handler(ctx);
    assert.deepEqual(
      (ctx.outputs.manifests as { file: string; kind: string; errors: string[] }[]).map((m) => [
        m.file,
        m.kind,
        m.errors,
      ]),
      [['k8s/config.yaml', 'ConfigMap', []]],
    );
    ws.write('k8s/bad.yaml', configMap('Not_A_Name'));
    const bad = makeContext({}, { workspace: ws });
    await assert.rejects(
      kubernetesValidate.handler(bad),
      /Kubernetes manifests are invalid: k8s\/bad\.yaml ConfigMap\/Not_A_Name/,
    );
  });

  it('refuses a directory without manifests and a path out of the workspace', async () => {
    await assert.rejects(
      kubernetesValidate.handler(makeContext({ path: 'deploy' })),
      /spec\.steps\[0\]\.input\.path: no manifests under \.\/deploy/,
    );
    await assert.rejects(kubernetesValidate.handler(makeContext({ path: '../k8s' })), /input\.path/);
  });
});
