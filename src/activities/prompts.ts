import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import Handlebars from 'handlebars';
import { ErrorType, Step } from '../cells/catalog.js';
import type { CellPlan, ReadyCell } from '../cells/plan.js';
import type { Db } from '../db/client.js';
import { containedPath, PROMPT_INSIDE_HINT } from '../templates/paths.js';
import { permanent } from './failures.js';
import { envName } from './resolveEnvironment.js';
import type { StepRecorder } from './steps.js';
import { metaPath } from './worktree.js';

export interface PromptsDeps {
  db: Db;
  steps: StepRecorder;
}

/**
 * The base prompt: what Hive is, the cell's role, then the template's fragments, the task, and the
 * runtime context. `noEscape`: this is Markdown for an agent, not HTML; values are inserted as text
 * and never evaluated (Handlebars has no code execution in templates).
 */
const BASE_PROMPT = `# You are working in a Hive cell

Hive gives each agent an isolated cell: its own git worktree on its own branch, its own services on
their own ports, and an environment wired to them. Nothing you do here touches other cells or the
main checkout. Commit your work to branch \`{{cell.branch}}\`.

{{#each fragments}}
{{{this.content}}}

{{/each}}
## Task

{{{brief}}}
{{#if constraints.length}}

## Constraints

{{#each constraints}}
- {{{this}}}
{{/each}}
{{/if}}
{{#if successCriteria.length}}

## Success criteria

{{#each successCriteria}}
- {{{this}}}
{{/each}}
{{/if}}

## Your cell

- Worktree: \`{{cell.worktreePath}}\` (branch \`{{cell.branch}}\`, from \`{{cell.baseRef}}\`)
- Workspace: \`{{cell.workspacePath}}\`
- Template: \`{{cell.templateId}}\`
- Environment file: \`{{envFile}}\` (source it to get the variables below)
{{#if services.length}}

| Service | Port | URL |{{#if publicUrls}} Stable URL (through Hive) |{{/if}}
| --- | --- | --- |{{#if publicUrls}} --- |{{/if}}
{{#each services}}
| {{this.name}} | {{this.port}} | {{this.url}} |{{#if ../publicUrls}} {{this.publicUrl}} |{{/if}}
{{/each}}
{{/if}}
`;

const render = Handlebars.compile(BASE_PROMPT, { noEscape: true, strict: false });

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
/** Lines Markdown reads as a heading: ATX (`## Task`) or a setext underline (`===`, `---`). */
const HEADING = /^( {0,3})(#{1,6}(?:[ \t]|$)|=+[ \t]*$|-+[ \t]*$)/;

/**
 * Request text (brief, a constraint, a success criterion) as Markdown that stays inside its section:
 * a line that would be a heading is escaped (`\## Task` reads as the text "## Task"), a code fence
 * left open is closed (it would swallow the sections after it), and continuation lines get `indent`
 * (a list item's lines stay in the item). Text inside the request's own code fences is left as is.
 */
export function asRequestText(text: string, indent = ''): string {
  let open: string | undefined;
  const lines = text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => {
      const fence = FENCE.exec(line)?.[1];
      if (fence) {
        if (!open) open = fence;
        else if (fence[0] === open[0] && fence.length >= open.length) open = undefined;
        return line;
      }
      return open ? line : line.replace(HEADING, '$1\\$2');
    });
  if (open) lines.push(open);
  return lines.join(`\n${indent}`);
}

/** Prompt files, or every Markdown/text file of a prompt folder (sorted), relative to the workspace. */
async function readFragments(
  plan: CellPlan,
  context: object,
): Promise<Array<{ source: string; content: string }>> {
  const fragments: Array<{ source: string; content: string }> = [];
  // Every file read, a folder's entries too, must really lie inside the workspace: a fragment is
  // stored with the cell and shown by the API.
  const contained = async (relative: string) => {
    const found = await containedPath(plan.workspacePath, relative);
    if (found.ok) return found.path;
    if (found.reason === 'missing') {
      throw permanent(ErrorType.PromptMissing, `prompt file ${relative} does not exist`, {
        hint: `Create ${found.path}.`,
      });
    }
    throw permanent(ErrorType.PathOutside, `prompt file ${relative} resolves outside the workspace`, {
      hint: PROMPT_INSIDE_HINT,
    });
  };
  for (const entry of plan.prompts) {
    const full = await contained(entry);
    const files = (await stat(full)).isDirectory()
      ? await Promise.all(
          (await readdir(full))
            .filter((f) => /\.(md|txt|hbs)$/.test(f))
            .sort()
            .map((f) => contained(path.relative(plan.workspacePath, path.join(full, f)))),
        )
      : [full];
    for (const file of files) {
      // Fragments may use the same context ({{services}}, {{cell.branch}}, …).
      const text = Handlebars.compile(await readFile(file, 'utf8'), { noEscape: true })(context);
      fragments.push({ source: path.relative(plan.workspacePath, file), content: text.trim() });
    }
  }
  return fragments;
}

export function createPromptsActivities({ db, steps }: PromptsDeps) {
  return {
    /** Step 6: assemble the initial agent prompt, write `.hive/prompt.md`, store it with the cell. */
    async assemblePrompt({ plan, env, ports }: ReadyCell): Promise<{ path: string; length: number }> {
      return steps.withStep(
        { cellId: plan.cellId, name: Step.prompt },
        async () => {
          const services = plan.services.map((s) => {
            const port = ports.find((p) => p.service === s.name && p.name === s.primaryPort)?.port;
            const publicUrl = env.env[`${envName(s.name)}_PUBLIC_URL`];
            return {
              name: s.name,
              port: port ?? '—',
              url: port ? `http://127.0.0.1:${port}` : '—',
              publicUrl: publicUrl ?? '—',
            };
          });
          const context = {
            cell: plan,
            services,
            publicUrls: services.some((s) => s.publicUrl !== '—'),
            envFile: env.envFile,
            env: env.env,
            options: plan.options,
          };
          const content = render({
            ...context,
            brief: asRequestText(plan.brief),
            constraints: plan.constraints.map((c) => asRequestText(c, '  ')),
            successCriteria: plan.successCriteria.map((c) => asRequestText(c, '  ')),
            fragments: await readFragments(plan, context),
          });
          const file = metaPath(plan, 'prompt.md');
          await writeFile(file, content);
          await db.prompt.upsert({
            where: { cellId: plan.cellId },
            create: { cellId: plan.cellId, content, path: file },
            update: { content, path: file },
          });
          return { path: file, length: content.length };
        },
        (r) => r,
      );
    },
  };
}
