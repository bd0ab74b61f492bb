/*
 * Vigil: random bytes on Linux (the Moddable simulator build): getrandom(2), the kernel's CSPRNG,
 * which blocks only until it is first seeded at boot.
 */
#include <stddef.h>
#include <sys/random.h>
#include "xsmc.h"

void xs_vigil_random(xsMachine *the)
{
	int n = xsmcToInteger(xsArg(0));
	if (n < 0 || n > 256)
		xsRangeError("random: 0 to 256 bytes");
	xsmcSetArrayBuffer(xsResult, NULL, n);
	if (getrandom(xsmcToArrayBuffer(xsResult), n, 0) != n)
		xsUnknownError("random: getrandom failed");
}
