/* main.c -- flags_asyncloop: the common main with the async-loop backend.
 * Default 5 transfers in flight (the book's asyncio default), at most 10,000. */
#include "download.h"
#include "flags.h"

int main(int argc, char **argv)
{
    return flags_main(argc, argv, "asyncloop", asyncloop_download_many, 5, 10000);
}
