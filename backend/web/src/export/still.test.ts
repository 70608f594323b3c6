import { describe, expect, it } from 'vitest';
import { metricsCsvUrl, metricsJsonUrl } from './exportApi';
import { fileBase } from './still';

describe('export helpers', () => {
  it('names downloads after the title without its extension or characters a file system refuses', () => {
    expect(fileBase('Backside 360: take 2', 'IMG_0001.MOV', 'v1')).toBe('Backside 360_ take 2');
    expect(fileBase(null, 'IMG_0001.MOV', 'v1')).toBe('IMG_0001');
    expect(fileBase('  ', null, 'v1')).toBe('v1');
    expect(fileBase('a/b\\c\u0007d', null, 'v1')).toBe('a_b_c_d');
  });

  it('points the metrics downloads at the API routes of docs/contracts.md', () => {
    expect(metricsCsvUrl('v 1')).toBe('/api/videos/v%201/metrics.csv');
    expect(metricsCsvUrl('v1', 'summary')).toBe('/api/videos/v1/metrics.csv?table=summary');
    expect(metricsJsonUrl('v1')).toBe('/api/videos/v1/metrics.json');
  });
});
