/**
 * Characters that reorder the text around them (right-to-left marks and overrides, isolates): in a
 * name or a reason from a hostile archive they make a line read other than it is ("Trojan Source").
 * Refused where text is taken in (a backup's reason), shown as escapes where it is printed.
 */
export const REORDERING_CHARACTERS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
