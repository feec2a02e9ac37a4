import { PageSkeleton } from '../../components/common/feedback';

export default function Loading() {
  return <PageSkeleton label="changes" />;
}
