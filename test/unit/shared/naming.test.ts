import {
  objectVersionId,
  parseS3Uri,
  s3Uri,
  slugOf,
  tagSafe,
  tagText,
  versionDigest,
} from '../../../functions/shared/naming';

describe('slugOf', () => {
  it.each([
    ['training/my first seté.jsonl', 40, 'my-first-sete'],
    ['training/Q3 Report (final).v2.jsonl', 40, 'q3-report-final-v2'],
    ['a/b/---.jsonl', 40, 'data'],
    ['plain', 40, 'plain'],
    ['x/ÜBER große Datei.jsonl', 40, 'uber-gro-e-datei'],
    ['x/abcdef-ghij.jsonl', 7, 'abcdef'],
    ['x/-lead-and-trail-.jsonl', 40, 'lead-and-trail'],
  ])('%s (max %i) → %s', (key, max, slug) => {
    expect(slugOf(key, max)).toBe(slug);
  });
});

describe('object version identity', () => {
  it('prefers the version id, else the unquoted ETag, else an empty ETag', () => {
    expect(objectVersionId({ bucket: 'b', key: 'k', versionId: 'v1', etag: 'e' })).toBe('v:v1');
    expect(objectVersionId({ bucket: 'b', key: 'k', etag: '"e1"' })).toBe('e:e1');
    expect(objectVersionId({ bucket: 'b', key: 'k' })).toBe('e:');
  });

  it('digests bucket, key and version so that moving a separator changes it', () => {
    expect(versionDigest({ bucket: 'b', key: 'k', versionId: 'v' })).toMatch(/^[0-9a-f]{64}$/);
    expect(versionDigest({ bucket: 'ab', key: 'c', versionId: 'v' })).not.toBe(
      versionDigest({ bucket: 'a', key: 'bc', versionId: 'v' }),
    );
  });
});

describe('tagSafe', () => {
  it('keeps a safe value as is, up to 256 characters', () => {
    expect(tagSafe('s3://b/a b.jsonl')).toBe('s3://b/a b.jsonl');
    expect(tagSafe('x'.repeat(256))).toBe('x'.repeat(256));
  });

  it('replaces unsafe characters and appends a 12-hex digest of the original', () => {
    const v = tagSafe('s3://b/seté%.jsonl');
    expect(v).toMatch(/^s3:\/\/b\/set__\.jsonl\+[0-9a-f]{12}$/);
  });

  it('cuts a long value to the maximum, digest included', () => {
    const v = tagSafe('y'.repeat(300), 128);
    expect(v).toHaveLength(128);
    expect(v).toMatch(/^y{115}\+[0-9a-f]{12}$/);
  });
});

describe('tagText', () => {
  it('turns a sentence into a tag value S3 accepts, still readable', () => {
    expect(
      tagText(
        "s3://b/a.job.json is not a valid dataset sidecar — unknown field(s) 'colour', 'size'; tags: bad (see docs) [x] {y} ×2",
      ),
    ).toBe(
      's3://b/a.job.json is not a valid dataset sidecar - unknown fields colour - size - tags: bad - see docs x y x2',
    );
  });

  it('keeps letters of any script and collapses what S3 refuses into single spaces', () => {
    expect(tagText('données « spéciales » #1 ! ok')).toBe('données spéciales 1 ok');
    expect(tagText('a#b')).toBe('a b');
  });

  it('turns a parenthesis or a semicolon without spaces into a dash too, and trims the ends', () => {
    expect(tagText('size(bytes)')).toBe('size - bytes');
    expect(tagText('a;b,c')).toBe('a - b - c');
    expect(tagText('  padded  ')).toBe('padded');
  });

  it('cuts at the maximum with an ellipsis, never leaving a trailing space before it', () => {
    const cut = tagText(`${'word '.repeat(100)}end`, 20);
    expect(cut).toBe('word word word wo...');
    expect(cut.length).toBeLessThanOrEqual(20);
    expect(tagText('abc def', 7)).toBe('abc def');
    expect(tagText('abcd efgh', 8)).toBe('abcd...');
  });
});

describe('S3 URIs', () => {
  it('builds and parses s3://bucket/key', () => {
    expect(s3Uri('b', 'a/b c.jsonl')).toBe('s3://b/a/b c.jsonl');
    expect(parseS3Uri('s3://b/a/b c.jsonl')).toEqual({ bucket: 'b', key: 'a/b c.jsonl' });
    expect(parseS3Uri('s3://b')).toEqual({ bucket: 'b', key: '' });
  });

  it('keeps a key with a line break whole (S3 keys may hold any UTF-8 character)', () => {
    expect(parseS3Uri('s3://b/a\nb.jsonl')).toEqual({ bucket: 'b', key: 'a\nb.jsonl' });
  });

  it('refuses anything else, naming it', () => {
    expect(() => parseS3Uri('https://b/k')).toThrow('not an s3:// URI: https://b/k');
    expect(() => parseS3Uri('https://b/s3://b/k')).toThrow('not an s3:// URI');
  });
});
