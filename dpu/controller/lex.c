/* ovnic: lexer for the OVN logical-flow language. */
#include "dpu/controller/lex.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/util/util.h"

static void OVNIC_PRINTF(2, 3) lex_error__(struct lex_token *token, const char *fmt, ...)
{
    free(token->s);
    token->s = NULL;
    token->type = LEX_T_ERROR;

    va_list args;
    va_start(args, fmt);
    vsnprintf(token->error, sizeof token->error, fmt, args);
    va_end(args);
}

static void
lex_enomem__(struct lex_token *token)
{
    lex_error__(token, "out of memory");
    token->enomem = true;
}

static bool
lex_is_id1__(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '.';
}

static bool
lex_is_idn__(unsigned char c)
{
    return lex_is_id1__(c) || (c >= '0' && c <= '9');
}

static int
lex_hexit__(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    } else if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

int
lex_u128_width(lex_u128 x)
{
    int n = 0;
    while (x) {
        n++;
        x >>= 1;
    }
    return n;
}

lex_u128
lex_u128_bits(int ofs, int n_bits)
{
    if (n_bits <= 0) {
        return 0;
    }
    lex_u128 ones = n_bits >= 128 ? ~(lex_u128)0 : ((lex_u128)1 << n_bits) - 1;
    return ones << ofs;
}

int
lex_u128_prefix_len(lex_u128 mask, int width)
{
    lex_u128 all = lex_u128_bits(0, width);
    if (mask & ~all) {
        return -1;
    }
    /* A prefix mask, inverted within 'width', is 2**k - 1. */
    lex_u128 inv = ~mask & all;
    if (inv & (inv + 1)) {
        return -1;
    }
    return width - lex_u128_width(inv);
}

/* Parses 'len' hex digits at 's' into 'token->value'. */
static void
lex_parse_hex__(const char *s, size_t len, struct lex_token *token)
{
    lex_u128 value = 0;
    for (size_t i = 0; i < len; i++) {
        int h = lex_hexit__((unsigned char)s[i]);
        if (h < 0) {
            lex_error__(token, "invalid syntax in hexadecimal constant");
            return;
        }
        if (value >> 124) {
            lex_error__(token, "hexadecimal constant requires more than 128 bits");
            return;
        }
        value = (value << 4) | (lex_u128)h;
    }
    token->value = value;
    token->format = LEX_F_HEXADECIMAL;
}

static bool
lex_parse_mac__(const char *s, size_t len, lex_u128 *value)
{
    if (len != 17) {
        return false;
    }
    lex_u128 v = 0;
    for (size_t i = 0; i < 17; i++) {
        if (i % 3 == 2) {
            if (s[i] != ':') {
                return false;
            }
            continue;
        }
        int h = lex_hexit__((unsigned char)s[i]);
        if (h < 0) {
            return false;
        }
        v = (v << 4) | (lex_u128)h;
    }
    *value = v;
    return true;
}

/* Parses an unmasked integer constant at 'p' + 'pos'.  Returns the offset just past
 * it.  'token' must have been reset; its type becomes LEX_T_INTEGER or
 * LEX_T_ERROR. */
static size_t
lex_parse_integer__(struct lex_token *token, const char *p, size_t pos)
{
    const char *start = p + pos;
    const char *end = start;
    bool saw_dot = false;

    token->type = LEX_T_INTEGER;
    token->value = 0;

    /* An "integer" extends over alphanumerics, colons (not after a dot, so that
     * "1.2.3.4:80" is three tokens), and single dots ("1..5" is 1, .., 5). */
    while (isalnum((unsigned char)*end) || (*end == ':' && !saw_dot) ||
           (*end == '.' && end[1] != '.')) {
        if (*end == '.') {
            saw_dot = true;
        }
        end++;
    }
    size_t len = end - start;

    if (!len) {
        lex_error__(token, "integer constant expected");
    } else if (lex_parse_mac__(start, len, &token->value)) {
        token->format = LEX_F_ETHERNET;
    } else if (strspn(start, "0123456789") >= len) {
        if (start[0] == '0' && len > 1) {
            lex_error__(token, "decimal constants must not have leading zeros");
        } else {
            lex_u128 v = 0;
            for (size_t i = 0; i < len; i++) {
                v = v * 10 + (lex_u128)(start[i] - '0');
                if (v > UINT64_MAX) {
                    lex_error__(token, "decimal constants must be less than 2**64");
                    return end - p;
                }
            }
            token->value = v;
            token->format = LEX_F_DECIMAL;
        }
    } else if (start[0] == '0' && (start[1] == 'x' || start[1] == 'X')) {
        if (len > 2) {
            lex_parse_hex__(start + 2, len - 2, token);
        } else {
            lex_error__(token, "hex digits expected after 0%c", start[1]);
        }
    } else if (len < INET6_ADDRSTRLEN) {
        char copy[INET6_ADDRSTRLEN];
        memcpy(copy, start, len);
        copy[len] = '\0';

        struct in_addr in4;
        struct in6_addr in6;
        if (inet_pton(AF_INET, copy, &in4) == 1) {
            token->value = ntohl(in4.s_addr);
            token->format = LEX_F_IPV4;
        } else if (inet_pton(AF_INET6, copy, &in6) == 1) {
            lex_u128 v = 0;
            for (int i = 0; i < 16; i++) {
                v = (v << 8) | in6.s6_addr[i];
            }
            token->value = v;
            token->format = LEX_F_IPV6;
        } else {
            lex_error__(token, "invalid numeric constant");
        }
    } else {
        lex_error__(token, "invalid numeric constant");
    }
    return end - p;
}

/* Parses an integer constant, with an optional "/mask". */
static size_t
lex_parse_integer_masked__(struct lex_token *token, const char *p, size_t pos)
{
    pos = lex_parse_integer__(token, p, pos);
    if (token->type != LEX_T_INTEGER || p[pos] != '/') {
        return pos;
    }

    struct lex_token mask;
    memset(&mask, 0, sizeof mask);
    pos = lex_parse_integer__(&mask, p, pos + 1);
    if (mask.type == LEX_T_ERROR) {
        token->type = LEX_T_ERROR;
        memcpy(token->error, mask.error, sizeof token->error);
        return pos;
    }

    lex_u128 m;
    if (token->format == mask.format) {
        m = mask.value;
    } else if (token->format == LEX_F_IPV4 && mask.format == LEX_F_DECIMAL &&
               mask.value <= 32) {
        m = lex_u128_bits(32 - (int)mask.value, (int)mask.value);
    } else if (token->format == LEX_F_IPV6 && mask.format == LEX_F_DECIMAL &&
               mask.value <= 128) {
        m = lex_u128_bits(128 - (int)mask.value, (int)mask.value);
    } else if (token->format == LEX_F_DECIMAL && mask.format == LEX_F_HEXADECIMAL &&
               token->value == 0) {
        token->format = LEX_F_HEXADECIMAL;
        m = mask.value;
    } else {
        lex_error__(token, "value and mask have incompatible formats");
        return pos;
    }
    token->type = LEX_T_MASKED_INTEGER;
    token->mask = m;
    token->value &= m;
    return pos;
}

/* Appends the UTF-8 encoding of 'cp' to 'out' at '*n'. */
static void
lex_put_utf8__(char *out, size_t *n, unsigned int cp)
{
    if (cp < 0x80) {
        out[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*n)++] = (char)(0xc0 | (cp >> 6));
        out[(*n)++] = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out[(*n)++] = (char)(0xe0 | (cp >> 12));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[(*n)++] = (char)(0x80 | (cp & 0x3f));
    } else {
        out[(*n)++] = (char)(0xf0 | (cp >> 18));
        out[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[(*n)++] = (char)(0x80 | (cp & 0x3f));
    }
}

static int
lex_parse_u4hex__(const char *s, unsigned int *cp)
{
    unsigned int v = 0;
    for (int i = 0; i < 4; i++) {
        int h = lex_hexit__((unsigned char)s[i]);
        if (h < 0) {
            return -1;
        }
        v = (v << 4) | (unsigned int)h;
    }
    *cp = v;
    return 0;
}

/* Unescapes the JSON string body 's' of 'len' bytes into a new string in 'token'. */
static void
lex_unescape__(struct lex_token *token, const char *s, size_t len)
{
    /* Unescaping never makes a string longer ("\uXXXX" is 6 bytes, at most 4 out;
     * a surrogate pair is 12 bytes, 4 out). */
    char *out = malloc(len + 1);
    if (!out) {
        lex_enomem__(token);
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '\\') {
            out[n++] = s[i];
            continue;
        }
        i++;
        char c = i < len ? s[i] : '\0';
        unsigned int cp;
        switch (c) {
        case '"':
        case '\\':
        case '/':
            out[n++] = c;
            break;
        case 'b':
            out[n++] = '\b';
            break;
        case 'f':
            out[n++] = '\f';
            break;
        case 'n':
            out[n++] = '\n';
            break;
        case 'r':
            out[n++] = '\r';
            break;
        case 't':
            out[n++] = '\t';
            break;
        case 'u':
            if (i + 4 >= len || lex_parse_u4hex__(s + i + 1, &cp)) {
                goto bad_u;
            }
            i += 4;
            if (cp >= 0xd800 && cp < 0xdc00) {
                unsigned int lo;
                if (i + 6 >= len || s[i + 1] != '\\' || s[i + 2] != 'u' ||
                    lex_parse_u4hex__(s + i + 3, &lo) || lo < 0xdc00 || lo >= 0xe000) {
                    free(out);
                    lex_error__(token, "invalid UTF-16 surrogate pair in string");
                    return;
                }
                i += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            } else if (cp >= 0xdc00 && cp < 0xe000) {
                free(out);
                lex_error__(token, "invalid UTF-16 surrogate pair in string");
                return;
            } else if (!cp) {
                free(out);
                lex_error__(token, "strings may not contain \\u0000");
                return;
            }
            lex_put_utf8__(out, &n, cp);
            break;
        default:
            free(out);
            if (isprint((unsigned char)c)) {
                lex_error__(token, "invalid escape `\\%c' in string", c);
            } else {
                lex_error__(token, "invalid escape in string");
            }
            return;
        }
    }
    out[n] = '\0';
    token->type = LEX_T_STRING;
    token->s = out;
    return;

bad_u:
    free(out);
    lex_error__(token, "`\\u' must be followed by 4 hex digits");
}

static size_t
lex_parse_string__(struct lex_token *token, const char *p, size_t pos)
{
    size_t start = ++pos;
    for (;;) {
        switch (p[pos]) {
        case '\0':
            lex_error__(token, "input ends inside quoted string");
            return pos;
        case '"':
            lex_unescape__(token, p + start, pos - start);
            return pos + 1;
        case '\\':
            pos++;
            if (p[pos]) {
                pos++;
            }
            break;
        default:
            pos++;
            break;
        }
    }
}

static size_t
lex_parse_id__(struct lex_token *token, const char *p, size_t pos, enum lex_type type)
{
    size_t start = pos;
    do {
        pos++;
    } while (lex_is_idn__((unsigned char)p[pos]));

    token->s = strndup(p + start, pos - start);
    if (!token->s) {
        lex_enomem__(token);
    } else {
        token->type = type;
    }
    return pos;
}

static size_t
lex_parse_ref__(struct lex_token *token, const char *p, size_t pos, enum lex_type type)
{
    char sigil = p[pos];
    pos++;
    if (!lex_is_id1__((unsigned char)p[pos])) {
        lex_error__(token, "`%c' must be followed by a valid identifier", sigil);
        return pos;
    }
    return lex_parse_id__(token, p, pos, type);
}

void
lex_token_destroy(struct lex_token *token)
{
    if (token) {
        free(token->s);
        token->s = NULL;
        token->type = LEX_T_END;
    }
}

size_t
lex_token_parse(struct lex_token *token, const char *p, size_t pos)
{
    memset(token, 0, sizeof *token);

next:
    token->start = pos;
    switch (p[pos]) {
    case '\0':
        token->type = LEX_T_END;
        break;

    case ' ':
    case '\t':
    case '\n':
    case '\r':
    case '\v':
    case '\f':
        pos++;
        goto next;

    case '/':
        pos++;
        if (p[pos] == '/') {
            while (p[pos] && p[pos] != '\n') {
                pos++;
            }
            goto next;
        } else if (p[pos] == '*') {
            pos++;
            for (;;) {
                if (p[pos] == '*' && p[pos + 1] == '/') {
                    pos += 2;
                    goto next;
                } else if (!p[pos] || p[pos] == '\n') {
                    lex_error__(token, "`/*' without matching `*/'");
                    break;
                }
                pos++;
            }
        } else {
            lex_error__(token, "`/' is only valid as part of `//' or `/*'");
        }
        break;

    case '(':
        token->type = LEX_T_LPAREN;
        pos++;
        break;
    case ')':
        token->type = LEX_T_RPAREN;
        pos++;
        break;
    case '{':
        token->type = LEX_T_LCURLY;
        pos++;
        break;
    case '}':
        token->type = LEX_T_RCURLY;
        pos++;
        break;
    case '[':
        token->type = LEX_T_LSQUARE;
        pos++;
        break;
    case ']':
        token->type = LEX_T_RSQUARE;
        pos++;
        break;
    case ',':
        token->type = LEX_T_COMMA;
        pos++;
        break;
    case ';':
        token->type = LEX_T_SEMICOLON;
        pos++;
        break;

    case '=':
        pos++;
        if (p[pos] == '=') {
            token->type = LEX_T_EQ;
            pos++;
        } else {
            token->type = LEX_T_EQUALS;
        }
        break;

    case '!':
        pos++;
        if (p[pos] == '=') {
            token->type = LEX_T_NE;
            pos++;
        } else {
            token->type = LEX_T_LOG_NOT;
        }
        break;

    case '&':
        pos++;
        if (p[pos] == '&') {
            token->type = LEX_T_LOG_AND;
            pos++;
        } else {
            lex_error__(token, "`&' is only valid as part of `&&'");
        }
        break;

    case '|':
        pos++;
        if (p[pos] == '|') {
            token->type = LEX_T_LOG_OR;
            pos++;
        } else {
            lex_error__(token, "`|' is only valid as part of `||'");
        }
        break;

    case '<':
        pos++;
        if (p[pos] == '=') {
            token->type = LEX_T_LE;
            pos++;
        } else if (p[pos] == '-' && p[pos + 1] == '>') {
            token->type = LEX_T_EXCHANGE;
            pos += 2;
        } else {
            token->type = LEX_T_LT;
        }
        break;

    case '>':
        pos++;
        if (p[pos] == '=') {
            token->type = LEX_T_GE;
            pos++;
        } else {
            token->type = LEX_T_GT;
        }
        break;

    case '-':
        pos++;
        if (p[pos] == '-') {
            token->type = LEX_T_DECREMENT;
            pos++;
        } else if (p[pos] == '>') {
            token->type = LEX_T_ARROW;
            pos++;
        } else {
            token->type = LEX_T_HYPHEN;
        }
        break;

    case '.':
        pos++;
        if (p[pos] == '.') {
            token->type = LEX_T_ELLIPSIS;
            pos++;
        } else {
            lex_error__(token, "`.' is only valid as part of `..' or a number");
        }
        break;

    case '$':
        pos = lex_parse_ref__(token, p, pos, LEX_T_MACRO);
        break;

    case '@':
        pos = lex_parse_ref__(token, p, pos, LEX_T_PORT_GROUP);
        break;

    case '"':
        pos = lex_parse_string__(token, p, pos);
        break;

    case ':':
        if (p[pos + 1] != ':') {
            token->type = LEX_T_COLON;
            pos++;
            break;
        }
        /* "::..." begins an IPv6 address. */
        pos = lex_parse_integer_masked__(token, p, pos);
        break;

    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
        pos = lex_parse_integer_masked__(token, p, pos);
        break;

    case 'a':
    case 'b':
    case 'c':
    case 'd':
    case 'e':
    case 'f':
    case 'A':
    case 'B':
    case 'C':
    case 'D':
    case 'E':
    case 'F':
        /* Ethernet and IPv6 addresses that start with a letter are hex digits
         * followed by a colon, which no identifier is. */
        if (p[pos + strspn(p + pos, "0123456789abcdefABCDEF")] == ':') {
            pos = lex_parse_integer_masked__(token, p, pos);
        } else {
            pos = lex_parse_id__(token, p, pos, LEX_T_ID);
        }
        break;

    default:
        if (lex_is_id1__((unsigned char)p[pos])) {
            pos = lex_parse_id__(token, p, pos, LEX_T_ID);
        } else {
            unsigned char c = (unsigned char)p[pos];
            if (isprint(c)) {
                lex_error__(token, "invalid character `%c' in input", c);
            } else {
                lex_error__(token, "invalid byte 0x%02x in input", c);
            }
            pos++;
        }
        break;
    }

    token->end = pos;
    return pos;
}

void
lexer_init(struct lexer *lexer, const char *input)
{
    memset(lexer, 0, sizeof *lexer);
    lexer->input = input;
    lexer->token.type = LEX_T_END;
}

void
lexer_destroy(struct lexer *lexer)
{
    if (lexer) {
        lex_token_destroy(&lexer->token);
    }
}

enum lex_type
lexer_get(struct lexer *lexer)
{
    lex_token_destroy(&lexer->token);
    lexer->pos = lex_token_parse(&lexer->token, lexer->input, lexer->pos);
    return lexer->token.type;
}

enum lex_type
lexer_lookahead(const struct lexer *lexer)
{
    struct lex_token next;
    lex_token_parse(&next, lexer->input, lexer->pos);
    enum lex_type type = next.type;
    lex_token_destroy(&next);
    return type;
}

bool
lexer_match(struct lexer *lexer, enum lex_type type)
{
    if (lexer->token.type == type) {
        lexer_get(lexer);
        return true;
    }
    return false;
}

bool
lexer_match_id(struct lexer *lexer, const char *id)
{
    if (lexer->token.type == LEX_T_ID && !strcmp(lexer->token.s, id)) {
        lexer_get(lexer);
        return true;
    }
    return false;
}

const char *
lex_type_to_string(enum lex_type type)
{
    switch (type) {
    case LEX_T_END:
        return "end of input";
    case LEX_T_ERROR:
        return "error";
    case LEX_T_ID:
        return "identifier";
    case LEX_T_STRING:
        return "string";
    case LEX_T_INTEGER:
        return "integer";
    case LEX_T_MASKED_INTEGER:
        return "masked integer";
    case LEX_T_MACRO:
        return "address set";
    case LEX_T_PORT_GROUP:
        return "port group";
    case LEX_T_LPAREN:
        return "`('";
    case LEX_T_RPAREN:
        return "`)'";
    case LEX_T_LCURLY:
        return "`{'";
    case LEX_T_RCURLY:
        return "`}'";
    case LEX_T_LSQUARE:
        return "`['";
    case LEX_T_RSQUARE:
        return "`]'";
    case LEX_T_EQ:
        return "`=='";
    case LEX_T_NE:
        return "`!='";
    case LEX_T_LT:
        return "`<'";
    case LEX_T_LE:
        return "`<='";
    case LEX_T_GT:
        return "`>'";
    case LEX_T_GE:
        return "`>='";
    case LEX_T_LOG_NOT:
        return "`!'";
    case LEX_T_LOG_AND:
        return "`&&'";
    case LEX_T_LOG_OR:
        return "`||'";
    case LEX_T_ELLIPSIS:
        return "`..'";
    case LEX_T_COMMA:
        return "`,'";
    case LEX_T_SEMICOLON:
        return "`;'";
    case LEX_T_EQUALS:
        return "`='";
    case LEX_T_EXCHANGE:
        return "`<->'";
    case LEX_T_ARROW:
        return "`->'";
    case LEX_T_DECREMENT:
        return "`--'";
    case LEX_T_COLON:
        return "`:'";
    case LEX_T_HYPHEN:
        return "`-'";
    }
    return "unknown token";
}

static const char *
lex_hex_format__(lex_u128 value, char *buf, size_t size)
{
    uint64_t hi = (uint64_t)(value >> 64);
    uint64_t lo = (uint64_t)value;
    if (hi) {
        snprintf(buf, size, "0x%llx%016llx", (unsigned long long)hi,
                 (unsigned long long)lo);
    } else {
        snprintf(buf, size, "0x%llx", (unsigned long long)lo);
    }
    return buf;
}

const char *
lex_value_format(lex_u128 value, enum lex_format format, char *buf, size_t size)
{
    switch (format) {
    case LEX_F_DECIMAL:
        if (value <= UINT64_MAX) {
            snprintf(buf, size, "%llu", (unsigned long long)value);
            return buf;
        }
        break;
    case LEX_F_HEXADECIMAL:
        break;
    case LEX_F_IPV4:
        if (value <= UINT32_MAX) {
            uint32_t v = (uint32_t)value;
            snprintf(buf, size, "%u.%u.%u.%u", v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff,
                     v & 0xff);
            return buf;
        }
        break;
    case LEX_F_IPV6: {
        struct in6_addr in6;
        char tmp[INET6_ADDRSTRLEN];
        for (int i = 0; i < 16; i++) {
            in6.s6_addr[i] = (uint8_t)(value >> (8 * (15 - i)));
        }
        if (inet_ntop(AF_INET6, &in6, tmp, sizeof tmp)) {
            snprintf(buf, size, "%s", tmp);
            return buf;
        }
        break;
    }
    case LEX_F_ETHERNET:
        if (value >> 48 == 0) {
            uint64_t v = (uint64_t)value;
            snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x",
                     (unsigned int)(v >> 40) & 0xff, (unsigned int)(v >> 32) & 0xff,
                     (unsigned int)(v >> 24) & 0xff, (unsigned int)(v >> 16) & 0xff,
                     (unsigned int)(v >> 8) & 0xff, (unsigned int)v & 0xff);
            return buf;
        }
        break;
    }
    return lex_hex_format__(value, buf, size);
}

const char *
lex_masked_value_format(lex_u128 value, lex_u128 mask, enum lex_format format, char *buf,
                        size_t size)
{
    char vbuf[48], mbuf[48];
    int plen = -1;
    if (format == LEX_F_IPV4 && value <= UINT32_MAX) {
        plen = lex_u128_prefix_len(mask, 32);
    } else if (format == LEX_F_IPV6) {
        plen = lex_u128_prefix_len(mask, 128);
    }
    lex_value_format(value, format, vbuf, sizeof vbuf);
    if (plen >= 0) {
        snprintf(buf, size, "%s/%d", vbuf, plen);
    } else {
        lex_value_format(mask, format, mbuf, sizeof mbuf);
        snprintf(buf, size, "%s/%s", vbuf, mbuf);
    }
    return buf;
}
