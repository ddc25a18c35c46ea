/*
 * gpux's one native addon (optional, built at install by scripts/build-native.mjs): map a file descriptor
 * MAP_SHARED into an ArrayBuffer, so the server and its inference process see the same memory and tensors
 * cross the process boundary without going through the IPC pipe (src/engine/shared-arena.ts). Node 20 cannot
 * map memory into two processes on its own. Node-API only, so one build serves every Node version >= 20.
 */
#define NAPI_VERSION 8
#include <errno.h>
#include <node_api.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

/* The ArrayBuffer was collected: its mapping goes with it (the length rides in the finalizer's hint). */
static void unmap(napi_env env, void *data, void *hint) {
  (void)env;
  munmap(data, (size_t)(uintptr_t)hint);
}

/* mapShared(fd, length): the first `length` bytes of the open file `fd`, readable and writable, shared. */
static napi_value map_shared(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd = -1;
  int64_t length = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      napi_get_value_int64(env, argv[1], &length) != napi_ok || fd < 0 || length <= 0) {
    napi_throw_type_error(env, NULL, "mapShared(fd, length) takes an open file descriptor and a length > 0");
    return NULL;
  }
  void *data = mmap(NULL, (size_t)length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (data == MAP_FAILED) {
    napi_throw_error(env, NULL, strerror(errno));
    return NULL;
  }
  napi_value buffer;
  if (napi_create_external_arraybuffer(env, data, (size_t)length, unmap, (void *)(uintptr_t)length,
                                       &buffer) != napi_ok) {
    munmap(data, (size_t)length);
    napi_throw_error(env, NULL, "could not wrap the mapping in an ArrayBuffer");
    return NULL;
  }
  return buffer;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "mapShared", NAPI_AUTO_LENGTH, map_shared, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "mapShared", fn) != napi_ok)
    return NULL;
  return exports;
}
