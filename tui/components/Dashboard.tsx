import { Box } from 'ink';
import { memo } from 'react';
import { OtlpLine, type OtlpView } from './OtlpLine.tsx';
import { RemotePanelView, type RemoteView } from './RemotePanel.tsx';
import { SeriesPanel, type SeriesView } from './SeriesPanel.tsx';
import { TargetsPanel, type TargetsView } from './TargetsPanel.tsx';
import { WalPanel, type WalView } from './WalPanel.tsx';

export interface DashboardView {
  readonly columns: number;
  readonly compact: boolean;
  readonly targets: TargetsView;
  readonly series: SeriesView;
  readonly wal: WalView;
  readonly remote: RemoteView;
  /** Absent while the OTLP receiver is off. */
  readonly otlp?: OtlpView | undefined;
}

/** Arranges the four panels: stacked one-liners on small terminals, Series and WAL side by side on large ones. */
export const Dashboard = memo(function Dashboard({ view: v }: { readonly view: DashboardView }) {
  const stats = (
    <>
      <SeriesPanel view={v.series} />
      <WalPanel view={v.wal} />
    </>
  );
  return (
    <Box flexDirection="column" width={v.columns}>
      <TargetsPanel view={v.targets} />
      {v.compact ? (
        stats
      ) : (
        <Box flexDirection="row" width={v.columns}>
          {stats}
        </Box>
      )}
      {v.otlp ? <OtlpLine view={v.otlp} /> : null}
      <RemotePanelView view={v.remote} />
    </Box>
  );
});
