// rot13 [-e STATUS] [TEXT...]: the ROT13 of TEXT (the words joined by
// spaces), or of stdin as it arrives, on stdout; then exits with STATUS
// (0 to 255, default 0). An unknown option is a usage error: status 2.
//
// A plain C program (`int main`, wasi-libc), made a WASI 0.2 command
// component by wasm-tools with the WASI preview1 command adapter. WASI
// 0.2's `exit` carries only success or failure (wasi-libc's exit(3) ends as
// 1), so a status of the program's own goes through `exit-with-code`
// (wasi:cli/exit@0.2.12, declared in wit/world.wit), as isaac and
// `wasmtime run` report it.

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__attribute__((import_module("wasi:cli/exit@0.2.12"), import_name("exit-with-code"), noreturn))
void wasi_exit_with_code(uint8_t status);

// End the program with `status`, what was printed flushed first.
static _Noreturn void finish(int status) {
    fflush(stdout);
    fflush(stderr);
    wasi_exit_with_code((uint8_t)status);
}

static void rotate13(char *text, size_t len) {
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if ((c >= 'a' && c <= 'm') || (c >= 'A' && c <= 'M')) {
            text[i] = c + 13;
        } else if ((c >= 'n' && c <= 'z') || (c >= 'N' && c <= 'Z')) {
            text[i] = c - 13;
        }
    }
}

int main(int argc, char **argv) {
    const char *name = argc > 0 ? argv[0] : "rot13";
    int status = 0, first = 1;
    for (; first < argc && argv[first][0] == '-' && argv[first][1]; first++) {
        char *end = NULL;
        if (strcmp(argv[first], "--") == 0) {
            first++;
            break;
        } else if (strcmp(argv[first], "-e") == 0 && first + 1 < argc) {
            long value = strtol(argv[++first], &end, 10);
            if (*end || end == argv[first] || value < 0 || value > 255) {
                fprintf(stderr, "%s: -e wants a status from 0 to 255, got `%s`\n", name, argv[first]);
                finish(2);
            }
            status = (int)value;
        } else {
            fprintf(stderr, "%s: unknown option `%s`\nusage: %s [-e STATUS] [TEXT...]\n", name, argv[first], name);
            finish(2);
        }
    }
    if (first < argc) {
        for (int i = first; i < argc; i++) {
            rotate13(argv[i], strlen(argv[i]));
            printf(i > first ? " %s" : "%s", argv[i]);
        }
        printf("\n");
    } else {
        // Stdin as it arrives: read(2) returns what is there, so each piece
        // reaches the reader without waiting for a full buffer.
        char buf[65536];
        ssize_t n;
        while ((n = read(0, buf, sizeof buf)) > 0) {
            rotate13(buf, (size_t)n);
            if (write(1, buf, (size_t)n) != n) {
                break;  // the reader went away
            }
        }
    }
    finish(status);
}
