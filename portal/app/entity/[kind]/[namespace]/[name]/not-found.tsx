import { MissingEntityView } from '../../../../../components/entity/missing-entity';

export default function EntityNotFound() {
  return <MissingEntityView />;
}
