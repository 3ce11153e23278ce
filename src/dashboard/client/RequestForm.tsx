import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, api, errorText } from './api.js';
import { ErrorNote, FindingList } from './components.js';
import { defaultOptions, OptionsForm, type OptionsSchema, type OptionValue } from './OptionsForm.js';
import type { Finding, TemplateDetail, ValidationReport } from './types.js';

const lines = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

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

/** The request for one template: options (dry-run checked as they change), the task, the cell. */
export function RequestForm({ workspace, template }: { workspace: string; template: string }) {
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
