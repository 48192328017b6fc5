# Närvaro: the citizen's screens, in English. Same messages as sv.ftl (the source).

## The page

language-name = English
page-title-booth = Meeting room
skip-to-content = Skip to content

## Choosing a language

language-heading = Welcome
language-choose = Choose your language
booth-change-language = Change language

## Nothing booked, or still loading

idle-heading = Welcome
idle-loading = We are getting today's meetings.
idle-none = No meeting is booked in this room right now. Ask the service guide at the counter.
booth-help-counter = Do you need help? Ask the service guide at the counter.
booth-offline = The connection to the server is lost. Trying again…

## Identification

identify-heading = Welcome
identify-meeting = Your meeting with { $agency } at { $time }
identify-question = Show who you are before the meeting.
identify-bankid = Identify yourself with BankID
identify-guide = I do not have BankID
identify-guide-hint = The service guide can check your ID document instead.

## The guide has been called

help-sent-heading = The service guide has been told
help-sent-identification = Go to the counter. Bring your ID document, for example a passport, ID card or driving licence.
help-sent-failed = The message could not be sent. Go to the counter and ask the service guide.
help-back = Back
booth-call-guide = Call the service guide
help-called = The service guide is coming soon.

## BankID (BankID's own recommended messages, RFA1–RFA23)

bankid-heading = Identify yourself with BankID
bankid-meeting = For your meeting with { $agency } at { $time }
bankid-instruction = Open the BankID app on your phone and scan the QR code.
bankid-qr-alt = QR code to scan with the BankID app. It changes every second.
bankid-retry = Try again
bankid-cancel = Cancel
bankid-rfa1 = Start your BankID app.
bankid-rfa3 = The action was cancelled. Please try again.
bankid-rfa4 = An identification or signature is already in progress for your personal identity number. Please try again.
bankid-rfa5 = Something went wrong. Please try again.
bankid-rfa6 = The action was cancelled.
bankid-rfa8 = The BankID app is not responding. Please check that it’s started and that you have internet access. Try again.
bankid-rfa9 = Enter your security code in the BankID app and select Identify or Sign.
bankid-rfa15b = Searching for BankID. Make sure you have a valid BankID on this device.
bankid-rfa16 = Your BankID is blocked or too old. Please use another BankID or get a new one from your bank.
bankid-rfa17b = Failed to scan the QR code. Start the BankID app and scan the QR code.
bankid-rfa21 = An identification or signing is in progress.
bankid-rfa22 = Something went wrong. Please try again.
bankid-rfa23 = Take a photo of, and scan, your ID document with the BankID app.

## Waiting room

waiting-heading = Waiting for your meeting…
waiting-you-meet = You will meet
waiting-starts = The meeting starts at { $time }.
waiting-minutes = { $minutes ->
    [one] In about one minute.
   *[other] In about { $minutes } minutes.
}
waiting-soon = Your case officer will join soon. You do not need to do anything.
waiting-starting = The meeting is starting. Connecting…
waiting-join-failed = Could not connect to the meeting. Trying again…
identified-bank-id = You are identified with BankID.
identified-freja-eid = You are identified with Freja eID.
identified-assisted = You are identified. The service guide has checked your ID document.
identified-dev-eid = You are identified with the development sign-in.
identified-other = You are identified.

## The meeting

meeting-heading = Meeting
meeting-you = You
meeting-captions = Captions
meeting-mic-off = Turn off the microphone
meeting-mic-on = Turn on the microphone
meeting-camera-off = Turn off the camera
meeting-camera-on = Turn on the camera
meeting-play-audio = Turn on the sound
meeting-leave = Leave the meeting
meeting-close = Close
meeting-participant = Participant
meeting-video-of = Video: { $name }
meeting-mic-is-off = microphone off
meeting-camera-is-off = camera off
meeting-video-paused-note = video paused – poor connection
meeting-video-paused = The video is paused – poor connection
meeting-identified = Identified: { $how }
meeting-speaking = Speaking
meeting-starting-media = Starting the camera and microphone…
meeting-media-denied = The camera and microphone may not be used. Allow them in the browser and try again.
meeting-media-failed = The camera or microphone could not be started.
meeting-connecting = Connecting to the meeting…
meeting-joined = Connected. Setting up sound and picture…
meeting-connected = You are in the meeting.
meeting-interrupted = The connection is disturbed. Trying again…
meeting-dropped = The connection to the meeting was lost ({ $code }).
meeting-reconnecting = The connection to the meeting was lost. Reconnecting…
meeting-reconnect-failed = The connection to the meeting could not be restored.
meeting-negotiation-failed = Sound and picture could not be set up.
meeting-unreachable = The meeting server could not be reached.
meeting-cancelled = The meeting has been cancelled.
meeting-ended = The meeting has ended.
meeting-left = You have left the meeting.
quality-good = Connection: good
quality-fair = Connection: fair
quality-poor = Connection: poor
meeting-error = { $text } (error { $code })
signalling-4000 = The client sent a malformed message.
signalling-4001 = The client sent an unknown message.
signalling-4002 = The message was too large.
signalling-4003 = The client is not connected to the meeting.
signalling-4004 = The client is already connected.
signalling-4005 = The set-up of sound and picture got out of step.
signalling-4006 = Sound and picture could not be set up.
signalling-4010 = The invitation to the meeting is missing.
signalling-4011 = The invitation to the meeting is not valid.
signalling-4012 = The invitation to the meeting has expired.
signalling-4013 = The invitation is for another meeting.
signalling-4014 = The invitation has already been used.
signalling-4015 = The invitation to the meeting is not accepted.
signalling-4016 = The invitation to the meeting is valid for too long.
signalling-4017 = The meeting could not be resumed. Please join again.
signalling-4090 = The meeting is full.
signalling-4091 = The meeting has ended.
signalling-5000 = Technical error on the server. Please try again in a while.

## After the meeting

ended-heading = The meeting has ended
ended-thanks = Thank you for coming.
survey-satisfaction = How happy are you with the meeting?
survey-face-1 = Very unhappy
survey-face-2 = Unhappy
survey-face-3 = Neither happy nor unhappy
survey-face-4 = Happy
survey-face-5 = Very happy
survey-got-help = Did you get help with your matter?
survey-yes = Yes
survey-no = No
survey-send = Send the answers
survey-thanks = Thank you for your answers!
survey-failed = The answers could not be sent. You can press Done anyway.
feedback-open = Make a complaint or a suggestion
feedback-kind = What do you want to give?
feedback-complaint = Complaint
feedback-suggestion = Suggestion
feedback-praise = Praise
feedback-about = What is it about?
feedback-waiting-time = The waiting time
feedback-accessibility = Accessibility
feedback-technical = Sound and picture
feedback-treatment = How I was treated
feedback-premises = The premises
feedback-other = Something else
feedback-send = Send
feedback-thanks = Thank you! We have received it.
feedback-failed = It could not be sent. Please ask the service guide.
ended-done = Done
ended-rejoin = Go back to the meeting
ended-reset-note = The screen starts again by itself after a while.

## The follow-up dashboard (/follow-up): for analysts and admins of an agency or a centre.

fu-title = Follow-up
fu-signed-in = Signed in as { $name }
fu-scope-agency = You see the figures of { $name }, at every service centre.
fu-scope-centre = You see the figures of { $name }, for every agency.
fu-filters = Selection
fu-from = From
fu-to = Until
fu-centre = Service centre
fu-agency = Agency
fu-service = Type of matter
fu-language = Language
fu-all = All
fu-show = Show
fu-csv = Download as CSV
fu-date-hint = Dates as YYYY-MM-DD
fu-period-note = Meetings count by their booked start, feedback by when it was given. At most 366 days at a time.
fu-invalid = The selection could not be read. Give dates as YYYY-MM-DD, at most 366 days.
fu-refused = You can only see the figures of your own agency or service centre.
fu-failed = The figures could not be fetched just now. Please try again in a while.
fu-meetings-heading = Meetings
fu-outcomes-heading = Outcomes
fu-bookings = Bookings
fu-meetings = Meetings held
fu-no-shows = No-shows
fu-cancelled = Cancelled
fu-chart-meetings = Meetings in the period
fu-waits-heading = Waiting time
fu-waits-measured = Meetings with a measured wait
fu-wait-median = Median
fu-wait-p90 = 90th percentile
fu-wait-mean = Mean
fu-waits-note = From check-in with the service guide to the start of the meeting.
fu-minutes = { $value } min
fu-percent = { $value }%
fu-satisfaction-heading = Satisfaction
fu-survey-answers = Survey answers
fu-satisfaction-mean = Mean score (1–5)
fu-got-help = Got help with their matter
fu-chart-satisfaction = Answers by score
fu-resolved = Resolved
fu-follow-up = Needs follow-up
fu-referred = Referred elsewhere
fu-share-resolved = Share resolved
fu-feedback-heading = Feedback
fu-chart-feedback = Feedback by kind
fu-by-category = By kind and category
fu-kind = Kind
fu-category = Category
fu-count = Count
fu-quality-heading = Call quality
fu-quality-none = There is no call quality data for this selection.
fu-calls-reported = Calls with measurements
fu-rtt = Round-trip time (ms)
fu-loss = Packet loss (per mille)
fu-poor = Seconds of poor quality
fu-groups-heading = By month, service centre and type of matter
fu-period = Period
fu-no-data = No data
fu-figure = Measure
fu-value = Value
