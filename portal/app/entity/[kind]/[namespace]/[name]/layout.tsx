import type { ReactNode } from 'react';
import { MissingEntityProvider } from '../../../../../components/entity/missing-entity';
import { readEntityOnServer, refOf } from './read-entity.ts';

type Params = Promise<{ kind: string; namespace: string; name: string }>;

/** Gives the segment's not-found view (not-found.tsx, which takes no props) the ref asked for and its closest names. */
export default async function EntityLayout({ children, params }: { children: ReactNode; params: Params }) {
  const { ref } = await refOf(params);
  const read = await readEntityOnServer(ref);
  return (
    <MissingEntityProvider value={read && 'missing' in read ? read.missing : null}>
      {children}
    </MissingEntityProvider>
  );
}
