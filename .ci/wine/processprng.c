/* Test harness only, never shipped: Wine 8 has no bcryptprimitives.dll!ProcessPrng, which the
 * Rust standard library (1.78 and later) calls for random bytes (HashMap seeds). This DLL
 * forwards it to advapi32!SystemFunction036 (RtlGenRandom), which Wine has. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
