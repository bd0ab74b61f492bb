/*
 * Vigil: hardware random bytes on the ESP32. esp_fill_random draws from the RF-noise-seeded
 * hardware RNG, which is cryptographically strong while Wi-Fi or Bluetooth is enabled (ESP-IDF docs).
 */
#include <stddef.h>
#include "xsmc.h"
#include "esp_random.h"

void xs_vigil_random(xsMachine *the)
{
	int n = xsmcToInteger(xsArg(0));
	if (n < 0 || n > 256)
		xsRangeError("random: 0 to 256 bytes");
	xsmcSetArrayBuffer(xsResult, NULL, n);
	esp_fill_random(xsmcToArrayBuffer(xsResult), n);
}
