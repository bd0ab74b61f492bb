/*
 * Vigil: native Ed25519 verification for the gateway (ESP32, Moddable SDK), bound to JavaScript by
 * ed25519.js ("@" syntax). Calls libsodium's crypto_sign_verify_detached, which applies exactly the
 * project's verdict policy, so the binding adds only argument handling.
 *
 * On the ESP32 libsodium comes from Espressif's component (manifest.json "dependency"); on a
 * development machine the same file compiles against Debian's libsodium-dev and the XS headers that
 * @agoric/xsnap ships (test/services/native-ed25519.test.ts).
 */
#include <stddef.h> /* size_t, which xs.h uses; the SDK build gets it from its platform header */
#include "xsmc.h"
#include <sodium.h>

static int vigil_sodium_ready = 0;

void xs_vigil_ed25519_verify(xsMachine *the)
{
	void *signature, *message, *publicKey;
	xsUnsignedValue signatureLength, messageLength, publicKeyLength;

	if (xsmcArgc != 3)
		xsUnknownError("verify expects (signature, message, publicKey)");

	/* sodium_init is idempotent; it picks implementations and must precede other calls (libsodium docs) */
	if (!vigil_sodium_ready) {
		if (sodium_init() < 0)
			xsUnknownError("libsodium could not be initialised");
		vigil_sodium_ready = 1;
	}

	/* No XS allocation happens between taking these pointers and using them, so they stay valid. */
	xsmcGetBufferReadable(xsArg(0), &signature, &signatureLength);
	xsmcGetBufferReadable(xsArg(1), &message, &messageLength);
	xsmcGetBufferReadable(xsArg(2), &publicKey, &publicKeyLength);

	if (signatureLength != crypto_sign_BYTES || publicKeyLength != crypto_sign_PUBLICKEYBYTES) {
		xsmcSetFalse(xsResult);
		return;
	}
	xsmcSetBoolean(xsResult, 0 == crypto_sign_verify_detached(
		(const unsigned char *)signature,
		(const unsigned char *)message, (unsigned long long)messageLength,
		(const unsigned char *)publicKey));
}
