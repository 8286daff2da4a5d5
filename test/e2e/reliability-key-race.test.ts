/**
 * The alias race, the last resort of the key bootstrap (the default path serializes the bootstrap
 * under a lease: test/load/admission-load.test.ts and test/e2e/admission.test.ts). Run here with
 * keyBootstrap=alias-race, where every first run creates a key: both runs find no alias and both
 * create a key, one wins CreateAlias. The loser must use the winner's key and retire its own:
 * tagged as an orphan and scheduled for deletion with the shortest (7-day) window.
 */
import { GetCustomModelCommand } from '@aws-sdk/client-bedrock';
import {
  DescribeKeyCommand,
  GetKeyRotationStatusCommand,
  ListAliasesCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
} from '@aws-sdk/client-kms';
import { field } from '../../cli/lib/run-view';
import { type Harness, startHarness, TEST_PARAMS } from './support/embedded';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ params: TEST_PARAMS.aliasRace });
});
afterAll(async () => {
  await h?.stop();
});

const DAY_MS = 86_400_000;

async function customerKeys() {
  const ids = (await h.c.kms.send(new ListKeysCommand({}))).Keys ?? [];
  const keys = [];
  for (const { KeyId } of ids) {
    const meta = (await h.c.kms.send(new DescribeKeyCommand({ KeyId }))).KeyMetadata;
    if (meta?.KeyManager !== 'CUSTOMER') continue;
    const tags = (await h.c.kms.send(new ListResourceTagsCommand({ KeyId }))).Tags ?? [];
    keys.push({ meta, tags: Object.fromEntries(tags.map((t) => [t.TagKey, t.TagValue])) });
  }
  return keys;
}

describe('key bootstrap race on a fresh account (keyBootstrap=alias-race)', () => {
  it('two datasets dropped at once: one alias, one key in use, the orphan tagged and scheduled for deletion in 7 days', async () => {
    const alias = h.stack.functions.find((f) => f.key === 'ensureCustomerManagedKey')?.environment.KEY_ALIAS;
    expect(alias).toMatch(/^alias\//);
    const keysBefore = await customerKeys();
    // No TuneVault key yet (the stack's own bucket key is the only customer managed key).
    expect(keysBefore.filter((k) => k.tags['tunevault:alias'] === alias)).toEqual([]);
    const createKeyBefore = h.aws.faults.calls.get('kms:CreateKey') ?? 0;
    // Slow CreateKey down so the second run's alias lookup certainly happens before the first
    // run's CreateAlias: the race is then deterministic instead of a matter of luck.
    h.aws.faults.add({ service: 'kms', operation: 'CreateKey', count: 2, delayMs: 400 });

    const [a, b] = await Promise.all([h.drop('race one'), h.drop('race two')]);

    expect(a.run.status).toBe('SUCCEEDED');
    expect(b.run.status).toBe('SUCCEEDED');
    expect((h.aws.faults.calls.get('kms:CreateKey') ?? 0) - createKeyBefore).toBe(2);
    const keyA = field(a.run.state, 'key', 'keyArn');
    const keyB = field(b.run.state, 'key', 'keyArn');
    expect(keyA).toBe(keyB);
    expect([field(a.run.state, 'key', 'created'), field(b.run.state, 'key', 'created')].sort()).toEqual([
      false,
      true,
    ]);

    const aliases = ((await h.c.kms.send(new ListAliasesCommand({}))).Aliases ?? []).filter(
      (x) => x.AliasName === alias,
    );
    expect(aliases).toHaveLength(1);
    expect(keyA?.endsWith(`/${aliases[0]?.TargetKeyId}`)).toBe(true);

    const ours = (await customerKeys()).filter((k) => k.tags['tunevault:alias'] === alias);
    expect(ours).toHaveLength(2);
    const inUse = ours.find((k) => k.meta.Arn === keyA);
    const orphan = ours.find((k) => k.meta.Arn !== keyA);
    expect(inUse?.meta.KeyState).toBe('Enabled');
    expect(inUse?.tags['tunevault:orphan']).toBeUndefined();
    expect(
      (await h.c.kms.send(new GetKeyRotationStatusCommand({ KeyId: inUse?.meta.KeyId }))).KeyRotationEnabled,
    ).toBe(true);
    expect(orphan?.tags).toMatchObject({
      'tunevault:orphan': 'true',
      'tunevault:orphan-reason': 'lost alias race',
    });
    expect(orphan?.meta.KeyState).toBe('PendingDeletion');
    const inDays = ((orphan?.meta.DeletionDate?.getTime() ?? 0) - Date.now()) / DAY_MS;
    expect(inDays).toBeGreaterThan(6.9);
    expect(inDays).toBeLessThanOrEqual(7);

    // Both models are encrypted with the one key in use.
    for (const run of [a.run, b.run]) {
      const model = await h.c.bedrock.send(
        new GetCustomModelCommand({ modelIdentifier: field(run.state, 'model', 'modelArn') }),
      );
      expect(model.modelKmsKeyArn).toBe(keyA);
    }
  });
});
