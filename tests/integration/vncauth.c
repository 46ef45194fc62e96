/*
 * vncauth.c - test helper: the VNC authentication response, computed by
 * libvncserver's own DES (the thing deskboxd checks against).
 *
 *   vncauth CHALLENGE_HEX PASSWORD   prints the 16-byte response in hex
 *   vncauth -f PASSWORD FILE         writes FILE in the obfuscated format
 *                                    vncviewer -passwd reads
 */
#include <rfb/rfb.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	unsigned char c[16];

	if (argc == 4 && !strcmp(argv[1], "-f"))
		return rfbEncryptAndStorePasswd(argv[2], argv[3]) ? 1 : 0;
	if (argc != 3 || strlen(argv[1]) != 32)
		return 2;
	for (int i = 0; i < 16; i++) {
		unsigned v;

		if (sscanf(argv[1] + 2 * i, "%2x", &v) != 1)
			return 2;
		c[i] = (unsigned char)v;
	}
	rfbEncryptBytes(c, argv[2]);
	for (int i = 0; i < 16; i++)
		printf("%02x", c[i]);
	printf("\n");
	return 0;
}
