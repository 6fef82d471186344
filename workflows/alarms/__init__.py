"""IoT alarms: the device registry (``devices``), alarms turned into cases (``receive``) and the
quarantine of alarms from unknown devices (``quarantine``)."""
