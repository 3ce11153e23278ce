import { duration } from './format.js';
import type { TemplateSummary } from './types.js';

/** One template in the picker: its services, what it needs and uses, how long it takes, its warm pool. */
export function TemplateCard({ template: t }: { template: TemplateSummary }) {
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
