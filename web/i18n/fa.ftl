# Närvaro: the citizen's screens, in Persian (فارسی, right to left). Same messages as sv.ftl
# (the source).

## The page

language-name = فارسی
page-title-booth = اتاق جلسه
skip-to-content = رفتن به محتوا

## Choosing a language

language-heading = خوش آمدید
language-choose = زبان را انتخاب کنید
booth-change-language = تغییر زبان

## Nothing booked, or still loading

idle-heading = خوش آمدید
idle-loading = در حال دریافت قرارهای امروز.
idle-none = اکنون هیچ قراری در این اتاق رزرو نشده است. از راهنمای خدمات در پیشخوان بپرسید.
booth-help-counter = به کمک نیاز دارید؟ از راهنمای خدمات در پیشخوان بپرسید.
booth-offline = ارتباط با سرور قطع شده است. دوباره تلاش می‌کنیم…

## Identification

identify-heading = خوش آمدید
identify-meeting = قرار شما با { $agency } ساعت { $time }
identify-question = پیش از جلسه هویت خود را نشان دهید.
identify-bankid = با BankID هویت خود را تأیید کنید
identify-guide = BankID ندارم
identify-guide-hint = راهنمای خدمات می‌تواند به جای آن مدرک شناسایی شما را بررسی کند.

## The guide has been called

help-sent-heading = به راهنمای خدمات خبر داده شد
help-sent-identification = به پیشخوان بروید. مدرک شناسایی خود را همراه داشته باشید، مثلاً گذرنامه، کارت شناسایی یا گواهینامه رانندگی.
help-sent-failed = پیام فرستاده نشد. به پیشخوان بروید و از راهنمای خدمات بپرسید.
help-back = بازگشت
booth-call-guide = راهنمای خدمات را صدا کنید
help-called = راهنمای خدمات به زودی می‌آید.

## BankID

bankid-heading = با BankID هویت خود را تأیید کنید
bankid-meeting = برای قرار شما با { $agency } ساعت { $time }
bankid-instruction = برنامه BankID را در تلفن همراه خود باز کنید و کد QR را اسکن کنید.
bankid-qr-alt = کد QR برای اسکن با برنامه BankID. هر ثانیه عوض می‌شود.
bankid-retry = دوباره تلاش کنید
bankid-cancel = لغو
bankid-rfa1 = برنامه BankID را باز کنید.
bankid-rfa3 = عملیات لغو شد. دوباره تلاش کنید.
bankid-rfa4 = یک احراز هویت یا امضا برای شماره شخصی شما در جریان است. دوباره تلاش کنید.
bankid-rfa5 = مشکلی پیش آمد. دوباره تلاش کنید.
bankid-rfa6 = عملیات لغو شد.
bankid-rfa8 = برنامه BankID پاسخ نمی‌دهد. بررسی کنید که باز باشد و به اینترنت وصل باشید. سپس دوباره تلاش کنید.
bankid-rfa9 = کد امنیتی خود را در برنامه BankID وارد کنید و «احراز هویت» یا «امضا» را انتخاب کنید.
bankid-rfa15b = در حال جستجوی BankID. مطمئن شوید که یک BankID معتبر روی این دستگاه دارید.
bankid-rfa16 = BankID شما خیلی قدیمی است یا مسدود شده است. از BankID دیگری استفاده کنید یا از بانک خود یک BankID جدید بگیرید.
bankid-rfa17b = کد QR خوانده نشد. برنامه BankID را باز کنید و کد QR را بخوانید.
bankid-rfa21 = یک احراز هویت یا امضا در جریان است.
bankid-rfa22 = مشکلی پیش آمد. دوباره تلاش کنید.
bankid-rfa23 = با برنامه BankID از مدرک شناسایی خود عکس بگیرید و آن را بخوانید.

## Waiting room

waiting-heading = در انتظار جلسه شما…
waiting-you-meet = دیدار شما با
waiting-starts = جلسه ساعت { $time } شروع می‌شود.
waiting-minutes = { $minutes ->
    [one] حدود یک دقیقه دیگر.
   *[other] حدود { $minutes } دقیقه دیگر.
}
waiting-soon = کارشناس پرونده شما به زودی وارد می‌شود. لازم نیست کاری بکنید.
waiting-starting = جلسه شروع می‌شود. در حال اتصال…
waiting-join-failed = اتصال به جلسه ممکن نشد. دوباره تلاش می‌کنیم…
identified-bank-id = هویت شما با BankID تأیید شده است.
identified-freja-eid = هویت شما با Freja eID تأیید شده است.
identified-assisted = هویت شما تأیید شده است. راهنمای خدمات مدرک شناسایی شما را بررسی کرده است.
identified-dev-eid = هویت شما با ورود آزمایشی تأیید شده است.
identified-other = هویت شما تأیید شده است.

## The meeting

meeting-heading = جلسه
meeting-you = شما
meeting-captions = زیرنویس
meeting-mic-off = خاموش کردن میکروفون
meeting-mic-on = روشن کردن میکروفون
meeting-camera-off = خاموش کردن دوربین
meeting-camera-on = روشن کردن دوربین
meeting-play-audio = روشن کردن صدا
meeting-leave = ترک جلسه
meeting-close = بستن
meeting-participant = شرکت‌کننده
meeting-video-of = ویدیو: { $name }
meeting-mic-is-off = میکروفون خاموش
meeting-camera-is-off = دوربین خاموش
meeting-video-paused-note = ویدیو متوقف شده – اتصال ضعیف
meeting-video-paused = ویدیو متوقف شده است – اتصال ضعیف
meeting-identified = تأیید هویت: { $how }
meeting-speaking = در حال صحبت
meeting-starting-media = در حال روشن کردن دوربین و میکروفون…
meeting-media-denied = اجازه استفاده از دوربین و میکروفون داده نشده است. در مرورگر اجازه دهید و دوباره تلاش کنید.
meeting-media-failed = دوربین یا میکروفون روشن نشد.
meeting-connecting = در حال اتصال به جلسه…
meeting-joined = وصل شدید. در حال آماده کردن صدا و تصویر…
meeting-connected = شما در جلسه هستید.
meeting-interrupted = اتصال مختل است. دوباره تلاش می‌کنیم…
meeting-dropped = ارتباط با جلسه قطع شد ({ $code }).
meeting-reconnecting = ارتباط با جلسه قطع شد. در حال اتصال دوباره…
meeting-reconnect-failed = ارتباط با جلسه دوباره برقرار نشد.
meeting-negotiation-failed = صدا و تصویر راه‌اندازی نشد.
meeting-unreachable = سرور جلسه در دسترس نیست.
meeting-cancelled = جلسه لغو شده است.
meeting-ended = جلسه به پایان رسید.
meeting-left = شما جلسه را ترک کردید.
quality-good = اتصال: خوب
quality-fair = اتصال: قابل قبول
quality-poor = اتصال: ضعیف
meeting-error = { $text } (خطای { $code })
signalling-4000 = برنامه یک پیام نادرست فرستاد.
signalling-4001 = برنامه یک پیام ناشناخته فرستاد.
signalling-4002 = پیام خیلی بزرگ بود.
signalling-4003 = برنامه به جلسه وصل نیست.
signalling-4004 = برنامه از قبل وصل است.
signalling-4005 = هماهنگی صدا و تصویر به هم خورد.
signalling-4006 = صدا و تصویر هماهنگ نشد.
signalling-4010 = دعوت‌نامه جلسه وجود ندارد.
signalling-4011 = دعوت‌نامه جلسه معتبر نیست.
signalling-4012 = دعوت‌نامه جلسه منقضی شده است.
signalling-4013 = دعوت‌نامه برای جلسه دیگری است.
signalling-4014 = دعوت‌نامه قبلاً استفاده شده است.
signalling-4015 = دعوت‌نامه جلسه پذیرفته نمی‌شود.
signalling-4016 = مدت اعتبار دعوت‌نامه جلسه خیلی طولانی است.
signalling-4017 = ادامه جلسه ممکن نشد. دوباره وارد شوید.
signalling-4090 = جلسه پر است.
signalling-4091 = جلسه به پایان رسیده است.
signalling-5000 = خطای فنی در سرور. کمی بعد دوباره تلاش کنید.

## After the meeting

ended-heading = جلسه به پایان رسید
ended-thanks = از آمدن شما سپاسگزاریم.
survey-satisfaction = چقدر از جلسه راضی هستید؟
survey-face-1 = اصلاً راضی نیستم
survey-face-2 = راضی نیستم
survey-face-3 = نه راضی، نه ناراضی
survey-face-4 = راضی هستم
survey-face-5 = خیلی راضی هستم
survey-got-help = آیا برای کارتان کمک گرفتید؟
survey-yes = بله
survey-no = نه
survey-send = فرستادن پاسخ‌ها
survey-thanks = از پاسخ‌های شما سپاسگزاریم!
survey-failed = پاسخ‌ها فرستاده نشد. با این حال می‌توانید «تمام» را بزنید.
feedback-open = ثبت شکایت یا پیشنهاد
feedback-kind = چه چیزی می‌خواهید ثبت کنید؟
feedback-complaint = شکایت
feedback-suggestion = پیشنهاد
feedback-praise = قدردانی
feedback-about = درباره چیست؟
feedback-waiting-time = زمان انتظار
feedback-accessibility = دسترس‌پذیری
feedback-technical = صدا و تصویر
feedback-treatment = برخورد با من
feedback-premises = محل
feedback-other = چیز دیگر
feedback-send = فرستادن
feedback-thanks = سپاسگزاریم! آن را دریافت کردیم.
feedback-failed = فرستاده نشد. لطفاً از راهنمای خدمات بپرسید.
ended-done = تمام
ended-rejoin = بازگشت به جلسه
ended-reset-note = صفحه پس از مدتی خودبه‌خود از نو شروع می‌شود.

## The follow-up dashboard (/follow-up): for analysts and admins of an agency or a centre.

fu-title = پیگیری
fu-signed-in = وارد شده به نام { $name }
fu-scope-agency = شما آمار { $name } را در همهٔ دفترهای خدمات می‌بینید.
fu-scope-centre = شما آمار { $name } را برای همهٔ سازمان‌ها می‌بینید.
fu-filters = انتخاب
fu-from = از
fu-to = تا
fu-centre = دفتر خدمات
fu-agency = سازمان
fu-service = نوع پرونده
fu-language = زبان
fu-all = همه
fu-show = نمایش
fu-csv = دانلود به صورت CSV
fu-date-hint = تاریخ‌ها به صورت YYYY-MM-DD
fu-period-note = جلسه‌ها بر اساس زمان شروع رزروشده و نظرها بر اساس زمان ثبت شمرده می‌شوند. حداکثر ۳۶۶ روز در هر بار.
fu-invalid = انتخاب خوانده نشد. تاریخ‌ها را به صورت YYYY-MM-DD و حداکثر برای ۳۶۶ روز وارد کنید.
fu-refused = شما فقط آمار سازمان یا دفتر خدمات خودتان را می‌توانید ببینید.
fu-failed = اکنون آمار دریافت نشد. کمی بعد دوباره امتحان کنید.
fu-meetings-heading = جلسه‌ها
fu-outcomes-heading = نتیجه‌ها
fu-bookings = رزروها
fu-meetings = جلسه‌های برگزارشده
fu-no-shows = حاضر نشدند
fu-cancelled = لغوشده
fu-chart-meetings = جلسه‌ها در این دوره
fu-waits-heading = زمان انتظار
fu-waits-measured = جلسه‌های با انتظار اندازه‌گیری‌شده
fu-wait-median = میانه
fu-wait-p90 = صدک نودم
fu-wait-mean = میانگین
fu-waits-note = از ثبت ورود نزد راهنمای خدمات تا شروع جلسه.
fu-minutes = { $value } دقیقه
fu-percent = { $value }٪
fu-satisfaction-heading = رضایت
fu-survey-answers = پاسخ‌های نظرسنجی
fu-satisfaction-mean = میانگین امتیاز (۱–۵)
fu-got-help = برای پرونده‌شان کمک گرفتند
fu-chart-satisfaction = پاسخ‌ها بر اساس امتیاز
fu-resolved = حل‌شده
fu-follow-up = نیاز به پیگیری
fu-referred = ارجاع‌شده
fu-share-resolved = سهم حل‌شده‌ها
fu-feedback-heading = نظرها
fu-chart-feedback = نظرها بر اساس نوع
fu-by-category = بر اساس نوع و دسته
fu-kind = نوع
fu-category = دسته
fu-count = تعداد
fu-quality-heading = کیفیت تماس
fu-quality-none = برای این انتخاب هیچ دادهٔ کیفیت تماس وجود ندارد.
fu-calls-reported = تماس‌های دارای اندازه‌گیری
fu-rtt = زمان رفت‌وبرگشت (میلی‌ثانیه)
fu-loss = از دست رفتن بسته‌ها (در هزار)
fu-poor = ثانیه‌های با کیفیت ضعیف
fu-groups-heading = بر اساس ماه، دفتر خدمات و نوع پرونده
fu-period = دوره
fu-no-data = داده‌ای نیست
fu-figure = شاخص
fu-value = مقدار
