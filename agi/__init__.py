"""FastAGI server: routing of answered calls, DTMF dispositions, agent login."""
