# desktop/build.mk - the in-sandbox desktop agent, deskbox-desktop.
# Included by the top-level Makefile. Pure modules (no I/O, no globals) go
# into libpure.a and the unit tests; keys.o (and actparse.o, which uses it)
# needs libX11's keysym name table, so only the agent and the two tests
# that reach keys.o link -lX11 (deskboxd never pulls them out of the
# archive). DESKTOP_SRC is the rest of the agent.

DESKTOP_PURE := desktop/keys.c desktop/scale.c desktop/shot.c \
	desktop/resample.c desktop/jget.c desktop/actparse.c desktop/pngsolid.c
PURE_SRC += $(DESKTOP_PURE)

# vnc.c writes the extended clipboard's zlib messages itself.
PKGS_DESKTOP += zlib
# display.c counts pointer moves (XInput2 raw motion) for the viewers.
PKGS_DESKTOP += xi
# winops.c redirects top-level windows so a covered one can be captured.
PKGS_DESKTOP += xcomposite


DESKTOP_SRC := desktop/main.c desktop/methods.c desktop/actions.c \
	desktop/chan.c desktop/spawn.c desktop/xserver.c desktop/display.c \
	desktop/capture.c desktop/encode.c desktop/input.c desktop/clipboard.c \
	desktop/windows.c desktop/vnc.c desktop/watch.c desktop/record.c \
	desktop/shotprep.c \
	desktop/winops.c \
	desktop/session.c desktop/launch.c

$(DESKTOP_SRC:%.c=$(BUILD)/obj/%.o): CFLAGS += $(shell pkg-config --cflags-only-I $(PKGS_DESKTOP) 2>/dev/null)
# vnc.c compiles against libvncserver's headers but loads the library
# only when the first VNC viewer attaches (dlopen; see vnc.c), so the
# agent does not link it: it and what it pulls in cost ~3 ms of every
# agent start, and most desktops never have a viewer.
$(BUILD)/obj/desktop/vnc.o: CFLAGS += $(shell pkg-config --cflags-only-I libvncserver 2>/dev/null)
# record.c encodes H.264 MP4s with libavcodec (libx264) on a thread of its
# own. It compiles against libav's headers but loads the libraries only
# when a recording starts (dlopen), so the agent does not link them.
$(BUILD)/obj/desktop/record.o: CFLAGS += $(shell pkg-config --cflags-only-I libavcodec libavformat libavutil libswscale 2>/dev/null)

# Unit tests of pure modules that use Xlib's keysym names, libm or zlib.
$(BUILD)/tests/test_desktop_keys: UNIT_LIBS += -lX11
$(BUILD)/tests/test_desktop_actparse: UNIT_LIBS += -lX11
# pngsolid.c's CRCs are zlib's; its test decodes with libspng.
$(BUILD)/tests/test_desktop_pngsolid: UNIT_LIBS += -lspng -lz
