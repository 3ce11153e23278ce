import type { ComponentChildren } from 'preact';

// Renders the assembled prompt's Markdown as elements (never as HTML: the prompt may quote anything).
// Headings, lists, fenced code, paragraphs, and inline code, bold and links are enough for prompts.

function inline(text: string): ComponentChildren[] {
  const parts: ComponentChildren[] = [];
  const pattern = /(`[^`]+`|\*\*[^*]+\*\*|\[[^\]]+\]\((https?:\/\/[^)\s]+)\))/g;
  let at = 0;
  for (const m of text.matchAll(pattern)) {
    const index = m.index ?? 0;
    if (index > at) parts.push(text.slice(at, index));
    const token = m[0];
    if (token.startsWith('`')) parts.push(<code>{token.slice(1, -1)}</code>);
    else if (token.startsWith('**')) parts.push(<strong>{token.slice(2, -2)}</strong>);
    else
      parts.push(
        <a href={m[2]} target="_blank" rel="noreferrer">
          {token.slice(1, token.indexOf(']'))}
        </a>,
      );
    at = index + token.length;
  }
  if (at < text.length) parts.push(text.slice(at));
  return parts;
}

export function Markdown({ source }: { source: string }) {
  const blocks: ComponentChildren[] = [];
  const lines = source.split('\n');
  for (let i = 0; i < lines.length; ) {
    const line = lines[i] ?? '';
    if (line.startsWith('```')) {
      const code: string[] = [];
      for (i++; i < lines.length && !(lines[i] ?? '').startsWith('```'); i++) code.push(lines[i] ?? '');
      i++;
      blocks.push(<pre class="code">{code.join('\n')}</pre>);
    } else if (/^#{1,6} /.test(line)) {
      const level = Math.min(6, (line.match(/^#+/)?.[0].length ?? 1) + 2);
      const Tag = `h${level}` as 'h3';
      blocks.push(<Tag>{inline(line.replace(/^#+ /, ''))}</Tag>);
      i++;
    } else if (/^\s*([-*]|\d+\.) /.test(line)) {
      const ordered = /^\s*\d+\. /.test(line);
      const items: string[] = [];
      for (; i < lines.length && /^\s*([-*]|\d+\.) /.test(lines[i] ?? ''); i++)
        items.push((lines[i] ?? '').replace(/^\s*([-*]|\d+\.) /, ''));
      const children = items.map((item) => <li>{inline(item)}</li>);
      blocks.push(ordered ? <ol>{children}</ol> : <ul>{children}</ul>);
    } else if (line.trim() === '') {
      i++;
    } else {
      const para: string[] = [];
      for (
        ;
        i < lines.length &&
        (lines[i] ?? '').trim() !== '' &&
        !/^(#{1,6} |```|\s*([-*]|\d+\.) )/.test(lines[i] ?? '');
        i++
      )
        para.push(lines[i] ?? '');
      blocks.push(<p>{inline(para.join(' '))}</p>);
    }
  }
  return <div class="markdown">{blocks}</div>;
}
