'use client';
import { SegmentError } from '../../components/common/segment-error';

export default function ErrorBoundary({ error, reset }: { error: Error; reset: () => void }) {
  return <SegmentError error={error} reset={reset} what="This page" />;
}
