import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { UsageError } from '../../package_scripts/errors.js';
import { dangerousHostPath, parseMounts, type MountContext } from '../../package_scripts/settings/mounts.js';

// realpath: on some systems the temporary folder is itself behind a symlink.
const root = realpathSync(mkdtempSync(join(tmpdir(), 'mcp-mounts-test-')));
const home = join(root, 'home', 'user');
const project = join(root, 'project');
const base = join(root, 'instance');
for (const dir of [home, join(home, 'docs'), project, join(project, 'docs'), base, join(base, 'data'), join(base, 'out')]) {
  mkdirSync(dir, { recursive: true });
}
writeFileSync(join(base, 'notes.txt'), 'hello\n');
symlinkSync(home, join(base, 'home-link'));
symlinkSync(project, join(base, 'project-link'));
symlinkSync(join(base, 'data'), join(base, 'data-link'));
after(() => rmSync(root, { recursive: true, force: true }));

const ctx: MountContext = { baseDir: base, projectDir: project, homeDir: home, allowDangerous: false };
const dangerousOk: MountContext = { ...ctx, allowDangerous: true };

function refused(spec: string, pattern: RegExp, context: MountContext = ctx) {
  assert.throws(
    () => parseMounts(spec, context),
    (error: unknown) => {
      assert.ok(error instanceof UsageError, `expected a UsageError for ${spec}, got ${String(error)}`);
      assert.equal(error.exitCode, 2);
      assert.match(error.message, /^MCP_MOUNTS entry /);
      assert.match(error.message, pattern);
      return true;
    },
  );
}

describe('parseMounts: accepted entries', () => {
  it('an empty spec, or only separators, gives no mount', () => {
    assert.deepEqual(parseMounts('', ctx), []);
    assert.deepEqual(parseMounts(' , ,', ctx), []);
  });

  it('relative host paths resolve against baseDir (the .env folder), read-only by default', () => {
    assert.deepEqual(parseMounts('./data:/workspace', ctx), [{ hostPath: join(base, 'data'), containerPath: '/workspace', readOnly: true }]);
    assert.deepEqual(parseMounts('data:/workspace', ctx), [{ hostPath: join(base, 'data'), containerPath: '/workspace', readOnly: true }]);
    assert.deepEqual(parseMounts('../instance/data:/workspace', ctx), [{ hostPath: join(base, 'data'), containerPath: '/workspace', readOnly: true }]);
  });

  it('ro is read-only, rw is writable; absolute paths and ~/ work; a trailing slash on the target is dropped', () => {
    assert.deepEqual(parseMounts(` ${join(base, 'data')}:/in:ro , ./out:/out/:rw , ~/docs:/docs `, ctx), [
      { hostPath: join(base, 'data'), containerPath: '/in', readOnly: true },
      { hostPath: join(base, 'out'), containerPath: '/out', readOnly: false },
      { hostPath: join(home, 'docs'), containerPath: '/docs', readOnly: true },
    ]);
  });

  it('a single file may be mounted, and a symlink keeps the path as written', () => {
    assert.deepEqual(parseMounts('./notes.txt:/workspace/notes.txt', ctx), [
      { hostPath: join(base, 'notes.txt'), containerPath: '/workspace/notes.txt', readOnly: true },
    ]);
    assert.deepEqual(parseMounts('./data-link:/workspace', ctx), [{ hostPath: join(base, 'data-link'), containerPath: '/workspace', readOnly: true }]);
  });

  it('a folder inside the project or the home folder is narrow enough', () => {
    assert.deepEqual(parseMounts(`${join(project, 'docs')}:/p,${join(home, 'docs')}:/h`, ctx), [
      { hostPath: join(project, 'docs'), containerPath: '/p', readOnly: true },
      { hostPath: join(home, 'docs'), containerPath: '/h', readOnly: true },
    ]);
  });
});

describe('parseMounts: malformed entries', () => {
  it('needs host:container with an optional mode', () => {
    refused('./data', /must be host:container or host:container:ro\|rw/);
    refused('./data:/a:ro:extra', /must be host:container or host:container:ro\|rw/);
    refused('./data::ro', /must be host:container/);
    refused(':/workspace', /must be host:container/);
  });

  it('the mode must be ro or rw', () => {
    refused('./data:/workspace:rx', /the mode must be ro or rw, not 'rx'/);
    refused('./data:/workspace:RW', /the mode must be ro or rw, not 'RW'/);
  });

  it('the container path must be absolute and free of ..', () => {
    refused('./data:workspace', /the container path must be absolute/);
    refused('./data:/workspace/../etc', /the container path must be absolute/);
  });

  it('the sandbox folders are reserved as targets', () => {
    for (const target of ['/', '/opt/sandbox', '/opt/sandbox/', '/etc', '/tmp', '/var/lib/mcp-sandbox', '/usr']) {
      refused(`./data:${target}`, /belongs to the sandbox; mount under another folder such as \/workspace/);
    }
  });

  it('the host path must exist', () => {
    refused('./missing:/workspace', new RegExp(`${join(base, 'missing')} does not exist; create it or fix the path`));
  });

  it('the host path must be a folder or a regular file', () => {
    refused('/dev/null:/workspace/null', /is neither a folder nor a file/);
  });

  it('the first bad entry stops the whole list', () => {
    refused('./data:/workspace,./missing:/other', /missing does not exist/);
  });
});

describe('parseMounts: dangerous host paths', () => {
  it('refuses / with the reason and the way out', () => {
    refused('/:/host', /'\/:\/host' is refused: it is the whole host filesystem\. .*--allow-dangerous-mounts/);
  });

  it('refuses the home folder, as ~/, as an absolute path and through a symlink', () => {
    refused('~/:/home-data', /is refused: it is or contains your whole home folder/);
    refused(`${home}:/home-data`, /is refused: it is or contains your whole home folder/);
    refused('./home-link:/home-data', /is refused: it is or contains your whole home folder/);
  });

  it('refuses the project folder, directly and through a symlink', () => {
    refused(`${project}:/src`, /is refused: it is or contains the mcp-sandbox project folder/);
    refused('./project-link:/src', /is refused: it is or contains the mcp-sandbox project folder/);
  });

  it('refuses folders that contain the Docker socket path (/run, /var/run)', () => {
    refused('/run:/hostrun', /is refused: it is or contains the Docker socket/);
    refused('/var/run:/hostrun', /is refused: it is or contains the Docker socket/);
  });

  it('accepts all of them with allowDangerous (start --allow-dangerous-mounts)', () => {
    assert.deepEqual(parseMounts(`/:/host,~/:/home-data:rw,${project}:/src`, dangerousOk), [
      { hostPath: '/', containerPath: '/host', readOnly: true },
      { hostPath: home, containerPath: '/home-data', readOnly: false },
      { hostPath: project, containerPath: '/src', readOnly: true },
    ]);
    assert.deepEqual(parseMounts('/run:/hostrun', dangerousOk), [{ hostPath: '/run', containerPath: '/hostrun', readOnly: true }]);
  });

  it('allowDangerous does not relax the other checks', () => {
    refused('/:/', /belongs to the sandbox/, dangerousOk);
    refused('./missing:/workspace', /does not exist/, dangerousOk);
    refused('/:/host:rx', /the mode must be ro or rw/, dangerousOk);
  });
});

describe('dangerousHostPath', () => {
  const where = { projectDir: project, homeDir: home };

  it('names the reason for /, the home folder and the project folder', () => {
    assert.equal(dangerousHostPath('/', where), 'it is the whole host filesystem');
    assert.equal(dangerousHostPath(home, where), 'it is or contains your whole home folder (SSH keys, cloud credentials, browser profiles)');
    assert.equal(dangerousHostPath(join(base, 'home-link'), where), 'it is or contains your whole home folder (SSH keys, cloud credentials, browser profiles)');
    assert.equal(dangerousHostPath(project, where), 'it is or contains the mcp-sandbox project folder, which holds .env and its secrets');
    assert.equal(dangerousHostPath(join(base, 'project-link'), where), 'it is or contains the mcp-sandbox project folder, which holds .env and its secrets');
  });

  it('flags the Docker socket and every folder containing its path, even where no socket exists', () => {
    const socket = 'it is or contains the Docker socket, which gives root on the host';
    for (const path of ['/var/run/docker.sock', '/run/docker.sock', '/var/run', '/run', '/var']) {
      assert.equal(dangerousHostPath(path, where), socket, path);
    }
  });

  it('lets narrower folders through', () => {
    for (const path of [join(home, 'docs'), join(project, 'docs'), join(base, 'data'), join(base, 'data-link'), '/usr/share', '/run-not-the-run']) {
      assert.equal(dangerousHostPath(path, where), undefined, path);
    }
  });
});

describe('folders that contain a protected one', () => {
  it('refuses a parent of the home folder or of the project folder', () => {
    const where = { projectDir: '/srv/work/mcp-sandbox', homeDir: '/home/alice' };
    assert.match(dangerousHostPath('/home', where) ?? '', /contains your whole home folder/);
    assert.match(dangerousHostPath('/srv/work', where) ?? '', /contains the mcp-sandbox project folder/);
    assert.equal(dangerousHostPath('/home/alice/projects', where), undefined);
  });

  it("refuses a mount target inside the sandbox's own folders", () => {
    const ctx = { baseDir: tmpdir(), projectDir: '/nonexistent-project', homeDir: '/nonexistent-home', allowDangerous: false };
    assert.throws(() => parseMounts(`${tmpdir()}:/opt/sandbox/bin`, ctx), /belongs to the sandbox/);
    assert.throws(() => parseMounts(`${tmpdir()}:/etc/nginx`, ctx), /belongs to the sandbox/);
  });
});
