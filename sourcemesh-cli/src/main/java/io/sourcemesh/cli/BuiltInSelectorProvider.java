package io.sourcemesh.cli;

/**
 * NIO's selector provider named up front: left unnamed, {@code SelectorProvider.provider()} (Netty's native
 * transports open a selector while they load) looks for a provider service on the class path, which
 * searches every jar, opening each. The class named is the one the JDK would fall back to on Linux.
 */
final class BuiltInSelectorProvider {
    static final String PROPERTY = "java.nio.channels.spi.SelectorProvider";
    static final String LINUX = "sun.nio.ch.EPollSelectorProvider";

    private BuiltInSelectorProvider() {}

    /** Called by a proxy's entry points before Netty loads; a provider the command line names is kept. */
    static void use() {
        if (System.getProperty(PROPERTY) != null) {
            return;
        }
        try {
            Class.forName(LINUX, false, null); // the JDK's own classes only: no class-path search
        } catch (ClassNotFoundException notLinux) {
            return;
        }
        System.setProperty(PROPERTY, LINUX);
    }
}
