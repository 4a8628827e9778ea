"""The simulated dialplan, in extensions.conf syntax: the dialer's contexts as shipped in
`asterisk-conf/extensions_dialer.conf` (the dialplan contract; a test keeps this copy identical
to it, comments aside) and the lab contexts the recordings were made with. The globals that
file asks admins to set (`DIALER_AGI`, `DIALER_FALLBACK_MESSAGE`) come from `PbxSimConfig`.

`SIM_*` variables are the simulator's own (set silently from the callee's behaviour); where
the lab dialplan says `${RAND(...)}` this one reads the drawn duration instead, so the
Newexten events show the same applications and priorities as the recordings.
`SimTalk` shows up in events as `Wait`: a person waits for an agent (when the population model
says so) and then talks.
"""

EXTENSIONS_CONF = r"""
[sim-pstn]
exten => _X.,1,NoOp(simulated callee ${EXTEN})
 same => n,Set(LAST=${SIM_LAST})
 same => n,GotoIf($[${LAST} = 0]?noanswer)
 same => n,GotoIf($[${LAST} = 1]?busy)
 same => n,GotoIf($[${LAST} = 2]?machine)
 same => n,GotoIf($[${LAST} = 3]?congestion)
 same => n,Ringing()
 same => n,Wait(${SIM_RING})
 same => n,Answer()
 same => n,Playback(hello-world)
 same => n,SimTalk(${SIM_TALK})
 same => n,Hangup(16)
 same => n(noanswer),Ringing()
 same => n,Wait(${SIM_RING})
 same => n,Hangup(19)
 same => n(busy),Busy(10)
 same => n(congestion),Congestion(10)
 same => n(machine),Ringing()
 same => n,Wait(${SIM_RING})
 same => n,Answer()
 same => n,Playback(vm-intro&vm-intro)
 same => n,Wait(${SIM_TALK})
 same => n,Hangup(16)

[sim-agents]
exten => _X.,1,Answer()
 same => n,Wait(36000)
 same => n,Hangup()

[dialer-outbound]
exten => s,1,NoOp(dialer attempt ${DIALER_ATTEMPT_ID} campaign ${DIALER_CAMPAIGN_ID} lead ${DIALER_LEAD_ID})
 same => n,GotoIf($["${DIALER_AMD}" != "1"]?decide)
 same => n,AMD()
 same => n,NoOp(AMD ${AMDSTATUS} ${AMDCAUSE})
 same => n(decide),AGI(agi://${DIALER_AGI}/answered?attempt=${DIALER_ATTEMPT_ID}&campaign=${DIALER_CAMPAIGN_ID})
 same => n,GotoIf($["${DIALER_ACTION}" = "bridge"]?bridge)
 same => n,GotoIf($["${DIALER_ACTION}" = "safeharbor"]?safeharbor)
 same => n,GotoIf($["${DIALER_ACTION}" = "voicemail"]?voicemail)
 same => n,GotoIf($["${AGISTATUS}" != "SUCCESS" & "${DIALER_FALLBACK_MESSAGE}" != ""]?unreachable)
 same => n,Hangup(16)
 same => n(bridge),ConfBridge(${DIALER_BRIDGE},agent_bridge,customer_user)
 same => n,Hangup(16)
 same => n(safeharbor),Playback(${DIALER_MESSAGE})
 same => n,Hangup(16)
 same => n(voicemail),WaitForSilence(1500,1,10)
 same => n,Playback(${DIALER_MESSAGE})
 same => n,Hangup(16)
 same => n(unreachable),Log(WARNING,dialer FastAGI ${DIALER_AGI} unreachable for ${DIALER_ATTEMPT_ID})
 same => n,Playback(${DIALER_FALLBACK_MESSAGE})
 same => n,Hangup(16)

[dialer-agent]
exten => _X.,1,Answer()
 same => n,ConfBridge(agent-${EXTEN},agent_bridge,agent_user)
 same => n,Hangup()

[dialer-wrapup]
exten => _X.,1,AGI(agi://${DIALER_AGI}/wrapup?agent=${EXTEN})
 same => n,Goto(dialer-agent,${EXTEN},1)

[dialer-agent-login]
exten => _*55,1,Answer()
 same => n,AGI(agi://${DIALER_AGI}/agent-login)
 same => n,GotoIf($["${DIALER_AGENT}" != ""]?dialer-agent,${DIALER_AGENT},1)
 same => n,Playback(${IF($["${DIALER_MESSAGE}" != ""]?${DIALER_MESSAGE}:agent-incorrect)})
 same => n,Hangup()

[dialer-monitor]
exten => listen,1,ChanSpy(${DIALER_SPY_CHANNEL},qES)
 same => n,Hangup()
exten => whisper,1,ChanSpy(${DIALER_SPY_CHANNEL},qESw)
 same => n,Hangup()
exten => barge,1,ChanSpy(${DIALER_SPY_CHANNEL},qESB)
 same => n,Hangup()

[dialer-phones]
include => dialer-agent-login

[dialer-inbound]
exten => _X.,1,NoOp(dialer inbound to ${EXTEN} from ${CALLERID(num)})
 same => n,Answer()
 same => n,AGI(agi://${DIALER_AGI}/inbound?did=${EXTEN}&server=${DIALER_SERVER})
 same => n,GotoIf($["${DIALER_ACTION}" = "bridge"]?bridge)
 same => n,GotoIf($["${DIALER_ACTION}" = "message"]?message)
 same => n,GotoIf($["${AGISTATUS}" != "SUCCESS" & "${DIALER_FALLBACK_MESSAGE}" != ""]?unreachable)
 same => n,Hangup(16)
 same => n(bridge),ConfBridge(${DIALER_BRIDGE},agent_bridge,customer_user)
 same => n,Hangup(16)
 same => n(message),Playback(${DIALER_MESSAGE})
 same => n,Hangup(16)
 same => n(unreachable),Log(WARNING,dialer FastAGI ${DIALER_AGI} unreachable for inbound ${EXTEN})
 same => n,Playback(${DIALER_FALLBACK_MESSAGE})
 same => n,Hangup(16)
exten => _+X.,1,Goto(dialer-inbound,${EXTEN:1},1)

[dialer-trunk-inbound]
exten => _X.,1,Hangup(21)
exten => _+X.,1,Hangup(21)

[lab-answered]
exten => s,1,NoOp(answered leg)
 same => n,AGI(agi://${DIALER_AGI}/outbound?campaign=7)
 same => n,Hangup()

[lab-amd]
exten => s,1,AMD()
 same => n,NoOp(AMD ${AMDSTATUS} ${AMDCAUSE})
 same => n,UserEvent(AmdResult,Status: ${AMDSTATUS},Cause: ${AMDCAUSE})
 same => n,Hangup()

[lab-agent-login]
exten => _X.,1,Answer()
 same => n,ConfBridge(agent-${EXTEN},agent_bridge,agent_user)
 same => n,Hangup()

[lab-to-agent]
exten => _X.,1,NoOp(connect to agent ${EXTEN})
 same => n,ConfBridge(agent-${EXTEN},agent_bridge,customer_user)
 same => n,Hangup()

[lab-agi-wait]
exten => s,1,AGI(agi://${DIALER_AGI}/wait)
 same => n,NoOp(after agi ${AGISTATUS})
 same => n,Hangup()

[lab-agi-record]
exten => s,1,Answer()
 same => n,AGI(agi://${DIALER_AGI}/record)
 same => n,Hangup()

[lab-park]
exten => s,1,Answer()
 same => n,Wait(60)
 same => n,Hangup()
"""  # noqa: E501
