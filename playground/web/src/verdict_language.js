// Syntax highlighting for the Verdict policy language (grammar/Verdict.g4)
// as a CodeMirror stream parser: keywords, type names, strings, numbers
// with duration units, comments and operators.

import { StreamLanguage } from '@codemirror/language';

const keywords = new Set([
  'schema', 'module', 'policyset', 'from', 'const', 'permit', 'forbid',
  'when', 'and', 'or', 'not', 'in', 'has', 'like', 'obligation', 'advice',
]);
const atoms = new Set(['true', 'false']);
const types = new Set([
  'bool', 'int', 'string', 'timestamp', 'duration', 'set', 'list',
]);

const verdictParser = {
  name: 'verdict',
  startState: () => ({ inBlockComment: false }),
  token(stream, state) {
    if (state.inBlockComment) {
      if (stream.skipTo('*/')) {
        stream.match('*/');
        state.inBlockComment = false;
      } else {
        stream.skipToEnd();
      }
      return 'blockComment';
    }
    if (stream.eatSpace()) return null;
    if (stream.match('//')) {
      stream.skipToEnd();
      return 'lineComment';
    }
    if (stream.match('/*')) {
      state.inBlockComment = true;
      return 'blockComment';
    }
    if (stream.peek() === '"') {
      stream.next();
      let escaped = false;
      while (!stream.eol()) {
        const c = stream.next();
        if (c === '"' && !escaped) return 'string';
        escaped = !escaped && c === '\\';
      }
      return 'string';
    }
    if (stream.match(/^[0-9]+[smhd]\b/) || stream.match(/^[0-9]+/)) {
      return 'number';
    }
    if (stream.match(/^\?[A-Za-z_][A-Za-z0-9_]*/)) return 'variableName.special';
    const word = stream.match(/^[A-Za-z_][A-Za-z0-9_]*/);
    if (word) {
      const text = word[0];
      if (keywords.has(text)) return 'keyword';
      if (atoms.has(text)) return 'bool';
      if (types.has(text)) return 'typeName';
      if (stream.match('::', false)) return 'namespace';
      return 'variableName';
    }
    if (stream.match(/^(==|!=|<=|>=|&&|\|\||::|[<>!=+\-])/)) return 'operator';
    if (stream.match(/^[{}()[\]]/)) return 'bracket';
    stream.next();
    return 'punctuation';
  },
  languageData: {
    commentTokens: { line: '//', block: { open: '/*', close: '*/' } },
    closeBrackets: { brackets: ['(', '[', '{', '"'] },
  },
};

export const verdictLanguage = StreamLanguage.define(verdictParser);
