/**
 * Durations as every screen shows them (the dashboard and the web UI): one unit style,
 * "850ms", "12.3s", "3m04s", "1h02m", "2d03h".
 *
 * The formatters are built by one self-contained factory so the web UI can ship the very same
 * code to the browser (its script embeds durationFormats.toString()): nothing inside may refer
 * to anything outside the function.
 */
export interface DurationFormats {
  /** Coarse human duration with the two most significant units. */
  duration(ms: number): string;
  /** Seconds with one decimal under a minute (lag is interesting at that resolution), else as duration. */
  seconds(sec: number): string;
  /** A scrape's duration: whole ms under a second, seconds with decimals under a minute. */
  scrapeDuration(ms: number): string;
}

export function durationFormats(): DurationFormats {
  // Methods of one object literal, not named function expressions: the dev loader (tsx) wraps those
  // in a naming helper that would not exist in the browser.
  const f = {
    pad2(n: number): string {
      return n < 10 ? '0' + n : String(n);
    },
    duration(ms: number): string {
      if (!Number.isFinite(ms) || ms < 0) return '-';
      if (ms < 1000) return Math.round(ms) + 'ms';
      const s = Math.floor(ms / 1000);
      if (s < 60) return s + 's';
      const m = Math.floor(s / 60);
      if (m < 60) return m + 'm' + f.pad2(s % 60) + 's';
      const h = Math.floor(m / 60);
      if (h < 24) return h + 'h' + f.pad2(m % 60) + 'm';
      return Math.floor(h / 24) + 'd' + f.pad2(h % 24) + 'h';
    },
    seconds(sec: number): string {
      if (!Number.isFinite(sec) || sec < 0) return '-';
      if (sec < 60) return sec.toFixed(1) + 's';
      return f.duration(sec * 1000);
    },
    scrapeDuration(ms: number): string {
      if (!(ms > 0)) return '-';
      if (ms < 1000) return Math.round(ms) + 'ms';
      if (ms < 60_000) return (ms / 1000).toFixed(ms < 10_000 ? 2 : 1) + 's';
      return f.duration(ms);
    },
  };
  return f;
}

const formats = durationFormats();
export const formatDuration = formats.duration;
export const formatSeconds = formats.seconds;
export const formatScrapeDuration = formats.scrapeDuration;
