import { useEffect, useState } from 'preact/hooks';
import { api, errorText } from './api.js';
import { ErrorNote, FindingList, Section } from './components.js';
import { RequestForm } from './RequestForm.js';
import { TemplateCard } from './TemplateCard.js';
import type { TemplateSummary, WorkspaceView } from './types.js';

interface Catalog {
  workspace: WorkspaceView;
  templates: TemplateSummary[];
  error?: string;
}

/** The template picker and the request form (the spec's template selection interface). */
export function NewCell() {
  const [catalogs, setCatalogs] = useState<Catalog[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [choice, setChoice] = useState<{ workspace: string; template: string } | null>(null);

  useEffect(() => {
    (async () => {
      const { workspaces } = await api.get<{ workspaces: WorkspaceView[] }>('/workspaces');
      const loaded = await Promise.all(
        workspaces.map(async (workspace): Promise<Catalog> => {
          if (!workspace.configLoads) return { workspace, templates: [] };
          try {
            const r = await api.get<{ templates: TemplateSummary[] }>(
              `/templates?workspace=${encodeURIComponent(workspace.id)}`,
            );
            return { workspace, templates: r.templates };
          } catch (e) {
            return { workspace, templates: [], error: errorText(e) };
          }
        }),
      );
      setCatalogs(loaded);
      const all = loaded.flatMap((c) =>
        c.templates.map((t) => ({ workspace: c.workspace.id, template: t.id })),
      );
      if (all.length === 1 && all[0]) setChoice(all[0]);
    })().catch((e) => setLoadError(errorText(e)));
  }, []);

  return (
    <div class="page">
      <div class="page-head">
        <div>
          <h1>New cell</h1>
          <p class="muted">Pick a template, describe the task, and Hive provisions a cell for an agent.</p>
        </div>
      </div>
      {loadError && <ErrorNote>{loadError}</ErrorNote>}
      {catalogs === null && !loadError && <p class="muted">Loading templates…</p>}
      {catalogs?.length === 0 && (
        <ErrorNote>
          No workspace is registered. Add one with <code>hive workspaces add &lt;id&gt; &lt;path&gt;</code>,
          or start Hive inside a git repository.
        </ErrorNote>
      )}
      <div class="new-layout">
        <div class="picker">
          {catalogs?.map((c) => (
            <WorkspaceTemplates
              key={c.workspace.id}
              catalog={c}
              chosen={choice?.workspace === c.workspace.id ? choice.template : null}
              onChoose={(template) => setChoice({ workspace: c.workspace.id, template })}
            />
          ))}
        </div>
        {choice && <RequestForm key={`${choice.workspace}/${choice.template}`} {...choice} />}
      </div>
    </div>
  );
}

function WorkspaceTemplates(props: {
  catalog: Catalog;
  chosen: string | null;
  onChoose: (template: string) => void;
}) {
  const { workspace, templates, error } = props.catalog;
  return (
    <Section title={`Workspace ${workspace.id}`} id={`ws-${workspace.id}`}>
      <p class="muted small mono">{workspace.path}</p>
      {!workspace.configLoads && (
        <div class="config-problems" role="alert">
          <p>
            <strong>The config of this workspace does not load</strong>
            {workspace.configFile ? (
              <>
                {' '}
                (<code>{workspace.configFile}</code>)
              </>
            ) : null}
            . Fix it and commit; the templates show up here without a restart.
          </p>
          <FindingList findings={workspace.problems} />
        </div>
      )}
      {error && <ErrorNote>{error}</ErrorNote>}
      {workspace.configLoads && templates.length === 0 && !error && (
        <p class="muted">This workspace defines no template.</p>
      )}
      <fieldset class="templates">
        <legend class="sr-only">Templates of {workspace.id}</legend>
        {templates.map((t) => (
          <label key={t.id} class={`template ${props.chosen === t.id ? 'chosen' : ''}`} data-template={t.id}>
            <input
              type="radio"
              name="template"
              value={`${workspace.id}/${t.id}`}
              checked={props.chosen === t.id}
              onChange={() => props.onChoose(t.id)}
            />
            <TemplateCard template={t} />
          </label>
        ))}
      </fieldset>
    </Section>
  );
}
