import { describe, expect, it } from 'vitest';
import { formatAge, formatBytes, formatDuration, formatTime, percent, shortHash } from './format';

describe('format', () => {
  const now = Date.parse('2026-06-01T12:00:00Z');
  it('prints times in UTC and ages relative to now', () => {
    expect(formatTime('2026-06-01T09:05:03.250Z')).toBe('2026-06-01 09:05:03 UTC');
    expect(formatTime(null)).toBe('—');
    expect(formatTime('garbage')).toBe('—');
    expect(formatAge('2026-06-01T11:59:30Z', now)).toBe('just now');
    expect(formatAge('2026-06-01T11:15:00Z', now)).toBe('45 min ago');
    expect(formatAge('2026-05-29T12:00:00Z', now)).toBe('3 days ago');
    expect(formatAge(null, now)).toBe('never');
  });
  it('prints sizes, durations, hashes and percentages', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(412_331_008)).toBe('393.2 MiB');
    expect(formatBytes(-1)).toBe('—');
    expect(formatDuration(0)).toBe('none');
    expect(formatDuration(600)).toBe('10 min');
    expect(formatDuration(5400)).toBe('1.5 h');
    expect(shortHash('0123456789abcdef', 8)).toBe('01234567…');
    expect(percent(1, 3)).toBe(33.3);
    expect(percent(1, 0)).toBe(0);
  });
});
