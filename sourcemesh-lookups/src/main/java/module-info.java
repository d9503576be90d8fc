/**
 * What a proxy's JVM looks up at start and would otherwise search the whole class path for (each jar
 * opened, its index kept on the heap): the JDK's logging asks for a {@code System.LoggerFinder} service
 * when JUL starts (a module's provider is found before the class path is searched), and protobuf's
 * {@code Android} probes for {@code libcore.io.Memory} and {@code org.robolectric.Robolectric} (this module
 * owns those two packages, empty but for a note, so the class loader answers "absent" from here).
 */
module sourcemesh.lookups {
    requires java.logging;

    // Two: the JDK uses the first, and asks whether there is a second (SecondLoggerFinder).
    provides java.lang.System.LoggerFinder with io.sourcemesh.lookups.JulLoggerFinder, io.sourcemesh.lookups.SecondLoggerFinder;
}
