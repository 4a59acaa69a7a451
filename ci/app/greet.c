/* A plugin the application loads with dlopen. */
const char *greet(void) { return "hello from a plugin"; }
