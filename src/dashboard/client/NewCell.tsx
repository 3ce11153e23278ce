import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, api, errorText } from './api.js';
import { ErrorNote, FindingList, Section } from './components.js';
import { duration } from './format.js';
import { defaultOptions, OptionsForm, type OptionsSchema, type OptionValue } from './OptionsForm.js';
import type { Finding, TemplateDetail, TemplateSummary, ValidationReport, WorkspaceView } from './types.js';

interface Catalog {
  workspace: WorkspaceView;
  templates: TemplateSummary[];
  error?: string;
}

const lines = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

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

function TemplateCard({ template: t }: { template: TemplateSummary }) {
  const executables = Object.entries(t.requirements.executables ?? {});
  const r = t.resources;
  const declared = [
    r.cpu !== undefined && `${r.cpu} CPU`,
    r.memoryMb !== undefined && `${r.memoryMb} MB RAM`,
    r.diskMb !== undefined && `${r.diskMb} MB disk`,
  ].filter(Boolean);
  return (
    <div class="template-body">
      <div class="template-title">
        <strong>{t.label}</strong> <span class="mono muted small">{t.id}</span>
      </div>
      {t.description && <p class="template-desc">{t.description}</p>}
      <dl class="facts">
        <div>
          <dt>Services</dt>
          <dd>
            {t.services.length
              ? t.services.map((s) => (
                  <span class="chip" key={s}>
                    {s}
                  </span>
                ))
              : 'none'}
          </dd>
        </div>
        {(executables.length > 0 || t.requirements.minFreeDiskMb || t.requirements.minFreeMemoryMb) && (
          <div>
            <dt>Needs</dt>
            <dd>
              {executables.map(([name, range]) => (
                <span class="chip" key={name}>
                  {name} {range === '*' ? '' : range}
                </span>
              ))}
              {t.requirements.minFreeDiskMb ? (
                <span class="chip">{t.requirements.minFreeDiskMb} MB free disk</span>
              ) : null}
              {t.requirements.minFreeMemoryMb ? (
                <span class="chip">{t.requirements.minFreeMemoryMb} MB free memory</span>
              ) : null}
            </dd>
          </div>
        )}
        {declared.length > 0 && (
          <div>
            <dt>Uses</dt>
            <dd>{declared.join(' · ')}</dd>
          </div>
        )}
        <div>
          <dt>Takes</dt>
          <dd>
            {t.measured
              ? `p50 ${duration(t.measured.p50Seconds)} · p95 ${duration(t.measured.p95Seconds)} (${t.measured.samples} cells)`
              : r.provisionSeconds
                ? `about ${duration(r.provisionSeconds)} (declared)`
                : 'not measured yet'}
          </dd>
        </div>
        {t.pool && (
          <div data-pool={t.pool.ready}>
            <dt>Warm pool</dt>
            <dd>
              {t.pool.ready} of {t.pool.size} ready
              {t.pool.warming > 0 && ` · ${t.pool.warming} warming`}
              {t.pool.claimed > 0 && ` · ${t.pool.claimed} claimed`}
              {t.pool.ready > 0 && ' — default options are served at once'}
            </dd>
          </div>
        )}
      </dl>
    </div>
  );
}

type Check =
  | { state: 'checking' }
  | { state: 'done'; report: ValidationReport }
  | { state: 'error'; text: string };

function CompatibilityBadge({ check }: { check: Check | null }) {
  if (!check || check.state === 'checking')
    return (
      <span class="badge tone-busy" data-compat="checking">
        <span class="spinner" aria-hidden="true" />
        Checking this host…
      </span>
    );
  if (check.state === 'error')
    return (
      <span class="badge tone-bad" data-compat="error">
        Dry run failed
      </span>
    );
  const errors = check.report.findings.filter((f) => f.severity === 'error').length;
  const warnings = check.report.findings.length - errors;
  if (!check.report.ok)
    return (
      <span class="badge tone-bad" data-compat="incompatible">
        Not compatible · {errors} {errors === 1 ? 'problem' : 'problems'}
      </span>
    );
  if (warnings)
    return (
      <span class="badge tone-warn" data-compat="warnings">
        Compatible · {warnings} {warnings === 1 ? 'warning' : 'warnings'}
      </span>
    );
  return (
    <span class="badge tone-ok" data-compat="ok">
      Compatible with this host
    </span>
  );
}

function RequestForm({ workspace, template }: { workspace: string; template: string }) {
  const [detail, setDetail] = useState<TemplateDetail | null>(null);
  const [options, setOptions] = useState<Record<string, OptionValue>>({});
  const [brief, setBrief] = useState('');
  const [name, setName] = useState('');
  const [constraints, setConstraints] = useState('');
  const [criteria, setCriteria] = useState('');
  const [baseRef, setBaseRef] = useState('');
  const [onFailure, setOnFailure] = useState<'preserve' | 'rollback'>('preserve');
  const [check, setCheck] = useState<Check | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const [submitError, setSubmitError] = useState<{ text: string; findings?: Finding[] } | null>(null);
  // One key per filled form: a double submit (or a retry after a dropped answer) makes one cell.
  const idempotencyKey = useMemo(() => crypto.randomUUID(), [workspace, template]);
  const q = `workspace=${encodeURIComponent(workspace)}`;

  useEffect(() => {
    api
      .get<TemplateDetail>(`/templates/${encodeURIComponent(template)}?${q}`)
      .then((d) => {
        setDetail(d);
        setOptions(defaultOptions(d.options as OptionsSchema));
      })
      .catch((e) => setCheck({ state: 'error', text: errorText(e) }));
  }, [workspace, template]);

  // The dry run, again whenever the options or base ref change (debounced while typing).
  useEffect(() => {
    if (!detail) return;
    setCheck({ state: 'checking' });
    let current = true;
    const timer = setTimeout(() => {
      api
        .post<ValidationReport>(`/templates/${encodeURIComponent(template)}/validate`, {
          workspace,
          options,
          ...(baseRef.trim() ? { baseRef: baseRef.trim() } : {}),
        })
        .then((report) => current && setCheck({ state: 'done', report }))
        .catch((e) => current && setCheck({ state: 'error', text: errorText(e) }));
    }, 300);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [detail, JSON.stringify(options), baseRef]);

  const submit = async (event: Event) => {
    event.preventDefault();
    setSubmitting(true);
    setSubmitError(null);
    try {
      const accepted = await api.post<{ id: string }>(
        '/cells',
        {
          workspace,
          template,
          brief,
          options,
          onFailure,
          constraints: lines(constraints),
          successCriteria: lines(criteria),
          ...(name.trim() ? { name: name.trim() } : {}),
          ...(baseRef.trim() ? { baseRef: baseRef.trim() } : {}),
        },
        { 'idempotency-key': idempotencyKey },
      );
      location.hash = `#/cells/${accepted.id}`;
    } catch (e) {
      setSubmitError({
        text: errorText(e),
        findings: e instanceof ApiError ? e.problem.findings : undefined,
      });
      setSubmitting(false);
    }
  };

  const blocked = check?.state === 'done' && !check.report.ok;
  return (
    <form class="card request" onSubmit={submit} aria-labelledby="request-title">
      <header class="card-head">
        <h2 id="request-title">
          {detail?.label ?? template} <span class="muted small mono">in {workspace}</span>
        </h2>
        <CompatibilityBadge check={check} />
      </header>
      <div aria-live="polite">
        {check?.state === 'done' && check.report.findings.length > 0 && (
          <FindingList findings={check.report.findings} />
        )}
        {check?.state === 'error' && <ErrorNote>{check.text}</ErrorNote>}
      </div>

      {detail && (
        <fieldset class="group">
          <legend>Options</legend>
          <OptionsForm schema={detail.options as OptionsSchema} values={options} onChange={setOptions} />
        </fieldset>
      )}

      <fieldset class="group">
        <legend>The task</legend>
        <label class="field">
          <span>
            Brief <abbr title="required">*</abbr>
          </span>
          <textarea
            rows={4}
            required
            maxLength={20_000}
            value={brief}
            placeholder="What should the agent do?"
            onInput={(e) => setBrief(e.currentTarget.value)}
          />
        </label>
        <div class="two">
          <label class="field">
            <span>Constraints</span>
            <textarea
              rows={3}
              value={constraints}
              placeholder="One per line"
              onInput={(e) => setConstraints(e.currentTarget.value)}
            />
          </label>
          <label class="field">
            <span>Success criteria</span>
            <textarea
              rows={3}
              value={criteria}
              placeholder="One per line"
              onInput={(e) => setCriteria(e.currentTarget.value)}
            />
          </label>
        </div>
      </fieldset>

      <fieldset class="group">
        <legend>Cell</legend>
        <div class="two">
          <label class="field">
            <span>Name</span>
            <input
              value={name}
              pattern="[a-zA-Z0-9][a-zA-Z0-9._\-]{0,62}"
              placeholder="defaults to the cell id"
              onInput={(e) => setName(e.currentTarget.value)}
            />
          </label>
          <label class="field">
            <span>Base ref</span>
            <input
              value={baseRef}
              placeholder="the workspace's HEAD"
              spellcheck={false}
              onInput={(e) => setBaseRef(e.currentTarget.value)}
            />
          </label>
        </div>
        <div class="field" role="radiogroup" aria-labelledby="on-failure">
          <span id="on-failure">If provisioning fails</span>
          <label class="radio">
            <input
              type="radio"
              name="onFailure"
              checked={onFailure === 'preserve'}
              onChange={() => setOnFailure('preserve')}
            />
            Keep the cell so I can fix the cause and retry
          </label>
          <label class="radio">
            <input
              type="radio"
              name="onFailure"
              checked={onFailure === 'rollback'}
              onChange={() => setOnFailure('rollback')}
            />
            Roll everything back at once
          </label>
        </div>
      </fieldset>

      {submitError && (
        <ErrorNote>
          {submitError.text}
          {submitError.findings && <FindingList findings={submitError.findings} />}
        </ErrorNote>
      )}
      <div class="form-actions">
        <button type="submit" class="primary" disabled={submitting || blocked || !detail}>
          {submitting ? 'Requesting…' : 'Create cell'}
        </button>
        {blocked && <span class="muted">Fix the problems above first.</span>}
      </div>
    </form>
  );
}
