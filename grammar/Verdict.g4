// The Verdict policy language. compiler/parser.cc turns the parse tree into
// the AST of compiler/ast.h, whose header shows the syntax by example.
//
// The lexer never fails: malformed numbers, unterminated strings and comments,
// and stray characters become tokens of their own (BAD_NUMBER and below) so
// that parser.cc can name the problem precisely and parse on.
grammar Verdict;

file
  : moduleDecl? declaration* EOF
  ;

// Qualifies the policies, policy sets and constants of the file:
// `module payments::billing;` makes policy "refund" the policy
// "payments::billing::refund". Several files may declare the same module.
moduleDecl
  : MODULE moduleName SEMI
  ;

moduleName
  : IDENT (COLON_COLON IDENT)*
  ;

declaration
  : schemaDecl
  | constDecl
  | policyDecl
  | policySetDecl
  ;

// A named group of policies and sets with its own combining algorithm
// (deny_overrides when omitted): policyset "payments" first_applicable { }
policySetDecl
  : POLICYSET STRING_LIT algorithm=IDENT? LBRACE (policyDecl | policySetDecl)* RBRACE
  ;

// Attributes are separated by whitespace, and a comma after one is optional.
schemaDecl
  : SCHEMA group=IDENT (FROM dataSet=IDENT)? LBRACE (attribute COMMA?)* RBRACE
  ;

attribute
  : attributePath optional=QUESTION? COLON typeName
  ;

attributePath
  : pathPart (DOT pathPart)*
  ;

// A reserved word where a name belongs is an error. Accepting it here lets
// parser.cc say so plainly, where a syntax error would send ANTLR's error
// recovery on to report more errors after it. The words that start a
// declaration are left out, because error recovery resumes at them.
pathPart
  : IDENT
  | keyword
  ;

keyword
  : FROM | WHEN | AND | OR | NOT | IN | HAS | LIKE | TRUE | FALSE
  | OBLIGATION | ADVICE | MODULE
  | BOOL | INT | STRING | TIMESTAMP | DURATION | SET | LIST
  ;

// Sets and lists hold strings only. Any element type parses here, so that
// parser.cc can name the problem in `set<int>` without losing its place.
// `ip`, `cidr` and `decimal` are not reserved, since attributes are often
// called `ip`: they come in as IDENT and parser.cc checks the name.
typeName
  : BOOL
  | INT
  | STRING
  | TIMESTAMP
  | DURATION
  | SET LT typeName GT
  | LIST LT typeName GT
  | IDENT
  ;

constDecl
  : CONST IDENT ASSIGN expr
  ;

// A policy without a condition ends with ';'. A policy `from` a data set
// is a template: each record of the data set links it, binding the
// placeholders (`?user`) of its condition to the record's fields.
policyDecl
  : effect=(PERMIT | FORBID) STRING_LIT (FROM dataSet=IDENT)?
    (WHEN LBRACE expr RBRACE duty* | duty+ | SEMI)
  ;

// What the PEP must do (obligation) or may use (advice) when the policy
// determines the decision: obligation "add_header" { name: "x-user" }.
duty
  : kind=(OBLIGATION | ADVICE) STRING_LIT LBRACE (dutyField COMMA?)* RBRACE
  ;

dutyField
  : IDENT COLON expr
  ;

// Expressions, from the lowest precedence to the highest. Chains of the
// binary operators are loops here, and parser.cc nests them to the left.
expr
  : orExpr
  ;

orExpr
  : andExpr ((OR | OR_OR) andExpr)*
  ;

andExpr
  : notExpr ((AND | AND_AND) notExpr)*
  ;

notExpr
  : (NOT | BANG) notExpr
  | comparison
  ;

// Comparisons do not chain: `a == b == c` is a syntax error.
comparison
  : additive (compareOp additive | IN additive | HAS attributePath
             | LIKE additive)?
  ;

compareOp
  : EQ | NE | LT | LE | GT | GE
  ;

additive
  : unary ((PLUS | MINUS) unary)*
  ;

unary
  : MINUS unary
  | postfix
  ;

// `a.b.f(x)` is the method f called on the name `a.b`. The loop in `name`
// stops before a `.f` that a '(' follows, which ANTLR's adaptive prediction
// sees three tokens ahead.
postfix
  : primary methodCall*
  ;

methodCall
  : DOT pathPart LPAREN arguments? RPAREN
  ;

arguments
  : expr (COMMA expr)*
  ;

primary
  : TRUE
  | FALSE
  | INT_LIT
  | DURATION_LIT
  | STRING_LIT
  | collection
  | call
  | entityRef
  | placeholder
  | qualifiedName
  | name
  | LPAREN expr RPAREN
  ;

// A template's placeholder, bound by each link: ?user.
placeholder
  : QUESTION IDENT
  ;

// A constant of another module: payments::LIMIT.
qualifiedName
  : IDENT (COLON_COLON IDENT)+
  ;

// An entity of the hierarchy in entity data: Group::"eng".
entityRef
  : IDENT COLON_COLON STRING_LIT
  ;

// Literal constructors such as ip("10.0.0.1") and timestamp("2026-01-01T00:00:00Z").
call
  : callee=(IDENT | TIMESTAMP | DURATION) LPAREN arguments? RPAREN
  ;

// The checker decides which elements a collection may hold; a trailing
// comma is allowed.
collection
  : LBRACKET (expr (COMMA expr)* COMMA?)? RBRACKET
  ;

name
  : IDENT (DOT pathPart)*
  ;

// Keywords are reserved: they come before IDENT, and ANTLR picks the first
// rule among matches of equal length.
SCHEMA: 'schema';
MODULE: 'module';
POLICYSET: 'policyset';
FROM: 'from';
CONST: 'const';
PERMIT: 'permit';
FORBID: 'forbid';
WHEN: 'when';
AND: 'and';
OR: 'or';
NOT: 'not';
IN: 'in';
HAS: 'has';
OBLIGATION: 'obligation';
ADVICE: 'advice';
LIKE: 'like';
TRUE: 'true';
FALSE: 'false';
BOOL: 'bool';
INT: 'int';
STRING: 'string';
TIMESTAMP: 'timestamp';
DURATION: 'duration';
SET: 'set';
LIST: 'list';

AND_AND: '&&';
OR_OR: '||';
EQ: '==';
NE: '!=';
LE: '<=';
GE: '>=';
LT: '<';
GT: '>';
BANG: '!';
ASSIGN: '=';
PLUS: '+';
MINUS: '-';
DOT: '.';
COMMA: ',';
COLON_COLON: '::';
COLON: ':';
SEMI: ';';
QUESTION: '?';
LPAREN: '(';
RPAREN: ')';
LBRACE: '{';
RBRACE: '}';
LBRACKET: '[';
RBRACKET: ']';

// Digits with a unit: seconds, minutes, hours or days.
DURATION_LIT: [0-9]+ [smhd];
INT_LIT: [0-9]+;
IDENT: [A-Za-z_] [A-Za-z0-9_]*;

// The lexer accepts a backslash before any character but a newline.
// parser.cc checks the escapes and reports an invalid one at its column.
STRING_LIT: '"' ('\\' ~[\r\n] | ~["\\\r\n])* '"';

WHITESPACE: [ \t\r\n\f]+ -> skip;
LINE_COMMENT: '//' ~[\r\n]* -> channel(HIDDEN);
BLOCK_COMMENT: '/*' .*? '*/' -> channel(HIDDEN);

// Malformed input. Whenever a well-formed rule above applies, each of these
// matches no more characters and comes later, so it wins only on bad input.

// Digits run into letters, as in `5ms` or `12abc`. DURATION_LIT wins the tie
// for `5m` because it comes first.
BAD_NUMBER: [0-9]+ [A-Za-z_] [A-Za-z0-9_]*;
// A string that reaches the end of its line or of the file before its
// closing quote.
UNTERMINATED_STRING: '"' ('\\' ~[\r\n] | ~["\\\r\n])* '\\'?;
// A block comment without '*/': the longest run of text that contains none.
UNTERMINATED_COMMENT: '/*' (~'*' | '*'+ ~[*/])* '*'*;
// Any other character. The parser.cc input stream holds one byte per
// character, so a run of bytes >= 0x80, such as a UTF-8 encoded letter,
// becomes one token.
INVALID_CHAR: [\u0080-\u00FF]+ | .;
