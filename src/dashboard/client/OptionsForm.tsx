// A template's options as a form, generated from the JSON Schema GET /templates/:id returns
// (string with enum/pattern/maxLength, number, boolean; defaults and descriptions).

export type OptionValue = string | number | boolean;

interface PropertySchema {
  type?: string;
  enum?: string[];
  default?: OptionValue;
  description?: string;
  pattern?: string;
  maxLength?: number;
}

export interface OptionsSchema {
  properties?: Record<string, PropertySchema>;
  required?: string[];
}

/** The values a form starts with: each option's default. */
export function defaultOptions(schema: OptionsSchema): Record<string, OptionValue> {
  const values: Record<string, OptionValue> = {};
  for (const [name, p] of Object.entries(schema.properties ?? {})) {
    if (p.default !== undefined) values[name] = p.default;
  }
  return values;
}

export function OptionsForm(props: {
  schema: OptionsSchema;
  values: Record<string, OptionValue>;
  onChange: (values: Record<string, OptionValue>) => void;
}) {
  const entries = Object.entries(props.schema.properties ?? {});
  if (entries.length === 0) return <p class="muted">This template has no options.</p>;
  const set = (name: string, value: OptionValue | undefined) => {
    const next = { ...props.values };
    if (value === undefined) delete next[name];
    else next[name] = value;
    props.onChange(next);
  };
  return (
    <div class="options">
      {entries.map(([name, p]) => {
        const id = `opt-${name}`;
        const required = props.schema.required?.includes(name) ?? false;
        const help = p.description ? <small id={`${id}-help`}>{p.description}</small> : null;
        const described = p.description ? `${id}-help` : undefined;
        if (p.type === 'boolean') {
          return (
            <div class="field check" key={name}>
              <label>
                <input
                  id={id}
                  type="checkbox"
                  checked={Boolean(props.values[name])}
                  aria-describedby={described}
                  onChange={(e) => set(name, e.currentTarget.checked)}
                />
                <span class="mono">{name}</span>
              </label>
              {help}
            </div>
          );
        }
        if (p.enum) {
          return (
            <label class="field" key={name}>
              <span class="mono">
                {name}
                {required && <abbr title="required"> *</abbr>}
              </span>
              <select
                id={id}
                value={String(props.values[name] ?? '')}
                required={required}
                aria-describedby={described}
                onChange={(e) => set(name, e.currentTarget.value || undefined)}
              >
                {!required && p.default === undefined && <option value="">(none)</option>}
                {p.enum.map((v) => (
                  <option key={v}>{v}</option>
                ))}
              </select>
              {help}
            </label>
          );
        }
        const numeric = p.type === 'number' || p.type === 'integer';
        const common = {
          id,
          value: props.values[name] === undefined ? '' : String(props.values[name]),
          required,
          placeholder: p.default === undefined ? undefined : String(p.default),
          'aria-describedby': described,
        };
        return (
          <label class="field" key={name} htmlFor={id}>
            <span class="mono">
              {name}
              {required && <abbr title="required"> *</abbr>}
            </span>
            {numeric ? (
              <input
                {...common}
                type="number"
                step="any"
                onInput={(e) =>
                  set(name, e.currentTarget.value === '' ? undefined : Number(e.currentTarget.value))
                }
              />
            ) : (
              <input
                {...common}
                type="text"
                pattern={p.pattern?.replace(/^\^/, '').replace(/\$$/, '')}
                maxLength={p.maxLength}
                onInput={(e) => set(name, e.currentTarget.value === '' ? undefined : e.currentTarget.value)}
              />
            )}
            {help}
          </label>
        );
      })}
    </div>
  );
}
