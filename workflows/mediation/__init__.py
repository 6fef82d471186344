"""The mediation room: rooms of the units, booked sessions, room utilisation and the expert pool."""
