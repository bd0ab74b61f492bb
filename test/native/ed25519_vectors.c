/*
 * Runs libsodium's crypto_sign_verify_detached (the call the gateway's native binding makes) on
 * signature vectors read from stdin, one per line: "<hex pk> <hex msg> <hex sig> <0|1>", with "-" for an empty field, and
 * prints one line per vector whose verdict differs, then a summary "checked N, mismatches M".
 * Exit 0 when every verdict matches, 1 otherwise, 2 on bad input.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unhex(const char *hex, unsigned char *out, size_t max, size_t *len)
{
	if (strcmp(hex, "-") == 0) { *len = 0; return 0; }
	return sodium_hex2bin(out, max, hex, strlen(hex), NULL, len, NULL);
}

int main(void)
{
	static char line[16384], pkh[256], msgh[8192], sigh[512];
	static unsigned char pk[64], msg[4096], sig[128];
	int expected, checked = 0, mismatches = 0;
	size_t pklen, msglen, siglen;

	if (sodium_init() < 0) { fputs("sodium_init failed\n", stderr); return 2; }
	while (fgets(line, sizeof line, stdin)) {
		if (sscanf(line, "%255s %8191s %511s %d", pkh, msgh, sigh, &expected) != 4) { fprintf(stderr, "bad line: %s", line); return 2; }
		if (unhex(pkh, pk, sizeof pk, &pklen) || unhex(msgh, msg, sizeof msg, &msglen) || unhex(sigh, sig, sizeof sig, &siglen)) { fprintf(stderr, "bad hex: %s", line); return 2; }
		int valid = pklen == crypto_sign_PUBLICKEYBYTES && siglen == crypto_sign_BYTES && crypto_sign_verify_detached(sig, msg, msglen, pk) == 0;
		checked++;
		if (valid != expected) { mismatches++; printf("mismatch at vector %d: libsodium says %d, policy says %d\n", checked - 1, valid, expected); }
	}
	printf("checked %d, mismatches %d\n", checked, mismatches);
	return mismatches == 0 ? 0 : 1;
}
