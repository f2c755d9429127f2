/* ovnic: lexer for the OVN logical-flow language (Logical_Flow match and actions).
 *
 * The lexer turns a NUL-terminated string into tokens: identifiers (which may contain
 * '.'), JSON-style quoted strings, integer constants (decimal, hexadecimal, IPv4,
 * IPv6, Ethernet), masked constants ("10.0.0.0/24", "0x10/0xf0", "fe80::/64"),
 * "$name" address-set and "@name" port-group references, and punctuation.  Comments
 * are "// ... end of line" and "/ * ... * /" (within one line).
 *
 *     struct lexer lexer;
 *     lexer_init(&lexer, "ip4.dst == 10.0.0.0/8");
 *     while (lexer_get(&lexer) != LEX_T_END && lexer.token.type != LEX_T_ERROR) {
 *         ...lexer.token...
 *     }
 *     lexer_destroy(&lexer);
 *
 * Integer values are held as unsigned 128-bit numbers, least-significant bit 0. */
#ifndef OVNIC_CONTROLLER_LEX_H
#define OVNIC_CONTROLLER_LEX_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** An unsigned 128-bit integer: every constant and field value in the language fits. */
typedef unsigned __int128 lex_u128;

enum lex_type {
    LEX_T_END,            /* End of input. */
    LEX_T_ERROR,          /* Lexical error; 'error' says what. */
    LEX_T_ID,             /* Identifier: "ip4.dst", "next", "reg0". */
    LEX_T_STRING,         /* Quoted string, unescaped into 's'. */
    LEX_T_INTEGER,        /* Integer constant in 'value'. */
    LEX_T_MASKED_INTEGER, /* Integer constant in 'value' with 'mask'. */
    LEX_T_MACRO,          /* "$name": address set reference; 's' is the name. */
    LEX_T_PORT_GROUP,     /* "@name": port group reference; 's' is the name. */
    LEX_T_LPAREN,         /* ( */
    LEX_T_RPAREN,         /* ) */
    LEX_T_LCURLY,         /* { */
    LEX_T_RCURLY,         /* } */
    LEX_T_LSQUARE,        /* [ */
    LEX_T_RSQUARE,        /* ] */
    LEX_T_EQ,             /* == */
    LEX_T_NE,             /* != */
    LEX_T_LT,             /* < */
    LEX_T_LE,             /* <= */
    LEX_T_GT,             /* > */
    LEX_T_GE,             /* >= */
    LEX_T_LOG_NOT,        /* ! */
    LEX_T_LOG_AND,        /* && */
    LEX_T_LOG_OR,         /* || */
    LEX_T_ELLIPSIS,       /* .. */
    LEX_T_COMMA,          /* , */
    LEX_T_SEMICOLON,      /* ; */
    LEX_T_EQUALS,         /* = */
    LEX_T_EXCHANGE,       /* <-> */
    LEX_T_ARROW,          /* -> */
    LEX_T_DECREMENT,      /* -- */
    LEX_T_COLON,          /* : */
    LEX_T_HYPHEN,         /* - */
};

/** How an integer constant was written; decides how it is printed back. */
enum lex_format {
    LEX_F_DECIMAL,
    LEX_F_HEXADECIMAL,
    LEX_F_IPV4,
    LEX_F_IPV6,
    LEX_F_ETHERNET,
};

#define LEX_ERROR_LEN 96

struct lex_token {
    enum lex_type type;
    enum lex_format format;    /* LEX_T_INTEGER, LEX_T_MASKED_INTEGER. */
    lex_u128 value;            /* LEX_T_INTEGER, LEX_T_MASKED_INTEGER. */
    lex_u128 mask;             /* LEX_T_MASKED_INTEGER ('value & ~mask' is 0). */
    char *s;                   /* ID, STRING, MACRO, PORT_GROUP.  Owned by the token. */
    size_t start;              /* Byte offset of the token's first character. */
    size_t end;                /* Byte offset just past the token. */
    bool enomem;               /* LEX_T_ERROR caused by memory exhaustion. */
    char error[LEX_ERROR_LEN]; /* LEX_T_ERROR: what is wrong. */
};

struct lexer {
    const char *input; /* Borrowed; must outlive the lexer. */
    size_t pos;        /* Offset at which the next token starts scanning. */
    struct lex_token token;
};

/** Prepares 'lexer' to read 'input' (borrowed, NUL-terminated).  Call lexer_get()
 * for the first token. */
void lexer_init(struct lexer *lexer, const char *input);

/** Frees what 'lexer' holds.  'lexer' may be NULL. */
void lexer_destroy(struct lexer *lexer);

/** Reads the next token into 'lexer->token' and returns its type.  After LEX_T_END
 * every further call returns LEX_T_END again. */
enum lex_type lexer_get(struct lexer *lexer);

/** Returns the type of the token that the next lexer_get() would read, without
 * consuming it. */
enum lex_type lexer_lookahead(const struct lexer *lexer);

/** If the current token has 'type', reads the next one and returns true. */
bool lexer_match(struct lexer *lexer, enum lex_type type);

/** If the current token is the identifier 'id', reads the next one and returns
 * true. */
bool lexer_match_id(struct lexer *lexer, const char *id);

/** Parses 'p' (NUL-terminated) as one token starting at offset 'pos' into 'token',
 * which the caller must later clear with lex_token_destroy().  Returns the offset just
 * past the token. */
size_t lex_token_parse(struct lex_token *token, const char *p, size_t pos);

/** Frees the string held by 'token' (if any) and resets it to LEX_T_END. */
void lex_token_destroy(struct lex_token *token);

/** Human-readable spelling of 'type' for error messages, e.g. "`&&'" or "string". */
const char *lex_type_to_string(enum lex_type type);

/** Writes 'value' in 'format' into 'buf' ("10.0.0.1", "0x1f", "00:11:22:33:44:55",
 * "fe80::1", "17").  A value too wide for 'format' is written in hexadecimal.
 * Returns 'buf'. */
const char *lex_value_format(lex_u128 value, enum lex_format format, char *buf,
                             size_t size);

/** Writes a masked value: "10.0.0.0/24" for CIDR masks of IPv4/IPv6 formats,
 * otherwise "value/mask" in 'format'.  Returns 'buf'. */
const char *lex_masked_value_format(lex_u128 value, lex_u128 mask, enum lex_format format,
                                    char *buf, size_t size);

/** Returns the number of bits needed to hold 'x' (0 for 0). */
int lex_u128_width(lex_u128 x);

/** Returns a 128-bit value with bits [ofs, ofs + n_bits) set.  Requires 0 <= ofs,
 * 0 <= n_bits, ofs + n_bits <= 128. */
lex_u128 lex_u128_bits(int ofs, int n_bits);

/** If 'mask' has the form of a CIDR prefix within 'width' bits (leading ones then
 * trailing zeros), returns the prefix length, otherwise -1. */
int lex_u128_prefix_len(lex_u128 mask, int width);

#endif /* OVNIC_CONTROLLER_LEX_H */
