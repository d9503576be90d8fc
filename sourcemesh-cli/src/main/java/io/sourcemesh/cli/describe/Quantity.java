package io.sourcemesh.cli.describe;

import java.math.BigDecimal;
import java.math.RoundingMode;

/**
 * A Kubernetes resource quantity ({@code 250m}, {@code 128Mi}, {@code 2}), enough of it for the
 * sums, ratios and canonical text that kubectl describe prints for requests and limits.
 */
record Quantity(BigDecimal value, boolean binary) {
    static final Quantity ZERO = new Quantity(BigDecimal.ZERO, false);
    private static final String[] BINARY = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    private static final String[] DECIMAL = {"m", "", "k", "M", "G", "T", "P", "E"};

    static Quantity parse(String text) {
        String t = text.strip();
        if (t.isEmpty()) {
            return ZERO;
        }
        for (int i = BINARY.length - 1; i > 0; i--) {
            if (t.endsWith(BINARY[i])) {
                return new Quantity(new BigDecimal(t.substring(0, t.length() - 2)).multiply(BigDecimal.valueOf(1024).pow(i)), true);
            }
        }
        int e = t.indexOf('e') > 0 ? t.indexOf('e') : t.indexOf('E') > 0 && Character.isDigit(t.charAt(t.length() - 1)) ? t.indexOf('E') : -1;
        if (e > 0) {
            return new Quantity(new BigDecimal(t), false);
        }
        for (int i = 0; i < DECIMAL.length; i++) {
            if (!DECIMAL[i].isEmpty() && t.endsWith(DECIMAL[i])) {
                return new Quantity(new BigDecimal(t.substring(0, t.length() - 1)).scaleByPowerOfTen(3 * (i - 1)), false);
            }
        }
        return new Quantity(new BigDecimal(t), false);
    }

    Quantity plus(Quantity o) {
        return new Quantity(value.add(o.value), value.signum() == 0 && o.value.signum() != 0 ? o.binary : binary);
    }

    boolean isZero() {
        return value.signum() == 0;
    }

    long milliValue() {
        return value.movePointRight(3).setScale(0, RoundingMode.CEILING).longValueExact();
    }

    /** The canonical text: the largest suffix that keeps the number whole, as Quantity.String() does. */
    @Override
    public String toString() {
        if (value.signum() == 0) {
            return "0";
        }
        if (binary && value.stripTrailingZeros().scale() <= 0) {
            BigDecimal v = value;
            int i = 0;
            BigDecimal k = BigDecimal.valueOf(1024);
            while (i < BINARY.length - 1 && v.abs().compareTo(k) >= 0 && v.remainder(k).signum() == 0) {
                v = v.divide(k);
                i++;
            }
            return v.toBigInteger() + BINARY[i];
        }
        BigDecimal v = value.setScale(3, RoundingMode.CEILING);
        int exp = -3;
        while (exp < 18 && v.movePointLeft(exp + 3).stripTrailingZeros().scale() <= 0 && v.abs().movePointLeft(exp + 3).compareTo(BigDecimal.ONE) >= 0) {
            exp += 3;
        }
        return v.movePointLeft(exp).toBigInteger() + DECIMAL[exp / 3 + 1];
    }
}
